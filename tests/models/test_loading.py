"""``--model``: built-in names, ``module:function``, ``file.py:function`` and callables, and
each way a reference can be wrong (framework-free: the builders are not called here)."""

from __future__ import annotations

import textwrap

import pytest

from regsearch.config import StudyConfig, TrainSettings
from regsearch.errors import ConfigError, ModelError
from regsearch.models import CNN, MLP, UserModel, model_factory, spec_of
from regsearch.models.loading import load_builder
from regsearch.models.spec import importable, model_label, spec_text


def build(input_shape, n_classes):
    return ("built", input_shape, n_classes)


def write(folder, name, source):
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def test_builtin_names_give_the_builtin_factories():
    assert model_factory("mlp", "torch", (64, 32)) == MLP((64, 32), "torch")
    assert model_factory("cnn", "tf") == CNN("tf")
    assert spec_of(MLP((8,), "tf")) == "mlp" and spec_of(CNN("torch")) == "cnn"


def test_a_file_reference_is_loaded_and_named_as_given(tmp_path):
    path = write(tmp_path, "my_net.py", "def build(shape, k):\n    return (shape, k)\n")
    factory = model_factory(f"{path}:build", "torch")
    assert isinstance(factory, UserModel) and factory.spec == f"{path}:build"
    assert factory((1, 2, 3), 4) == ((1, 2, 3), 4)
    assert load_builder(f"{path}:build") is load_builder(f"{path}:build")  # loaded once
    assert model_label(f"{path}:build") == "my_net"


def test_a_module_reference_is_imported(tmp_path, monkeypatch):
    package = tmp_path / "nets"
    package.mkdir()
    write(package, "__init__.py", "")
    write(
        package,
        "small.py",
        "class Zoo:\n    @staticmethod\n    def build(s, k):\n        return k\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert model_factory("nets.small:Zoo.build", "tf")((3,), 7) == 7
    assert model_label("nets.small:Zoo.build") == "small"


def test_a_callable_is_named_by_its_qualified_name():
    factory = model_factory(build, "torch")
    assert factory.spec == f"{__name__}:build" and factory((2,), 3) == ("built", (2,), 3)
    assert spec_text(build) == f"{__name__}:build" and model_label(build) == "build"
    assert importable(build) and not importable(lambda s, k: None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("resnet", "must be mlp, cnn, package.module:function or path/to/file.py:function"),
        ("nets.py", "must be mlp, cnn"),
        ("no_such_package_xyz.models:build", "no module named 'no_such_package_xyz.models'"),
        ("missing/net.py:build", "no such file missing/net.py"),
    ],
)
def test_references_that_name_nothing_are_refused(spec, message):
    with pytest.raises(ModelError, match=message) as caught:
        model_factory(spec, "torch")
    assert caught.value.exit_code == 2


def test_a_missing_function_lists_what_the_file_defines(tmp_path):
    path = write(tmp_path, "net.py", "def make(s, k):\n    pass\n\ndef other(s, k):\n    pass\n")
    with pytest.raises(ModelError, match=r"has no 'build'\. Callables defined there: make, other"):
        model_factory(f"{path}:build", "torch")


def test_an_attribute_that_is_not_a_function_is_refused(tmp_path):
    path = write(tmp_path, "net.py", "build = 3\n")
    with pytest.raises(ModelError, match="build is a int, not a function"):
        model_factory(f"{path}:build", "torch")


def test_a_file_that_fails_to_run_names_the_exception_and_its_line(tmp_path):
    path = write(tmp_path, "broken.py", "import os\n\nraise RuntimeError('no GPU here')\n")
    with pytest.raises(ModelError) as caught:
        model_factory(f"{path}:build", "torch")
    text = str(caught.value)
    assert f"running {path} raised RuntimeError: no GPU here (at {path}:3)" in text
    # A failed file is not cached: fixed, it loads.
    path.write_text("def build(s, k):\n    return k\n")
    assert model_factory(f"{path}:build", "torch")((1,), 5) == 5


def test_a_module_whose_own_import_fails_says_so(tmp_path, monkeypatch):
    write(tmp_path, "needs_more.py", "import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModelError, match="importing needs_more raised ModuleNotFoundError"):
        model_factory("needs_more:build", "torch")


def test_config_takes_the_model_and_names_the_study_after_it(tmp_path):
    assert StudyConfig(backend="torch").name == "mnist-torch"
    assert StudyConfig(backend="torch", model="cnn").name == "mnist-cnn-torch"
    assert StudyConfig(backend="tf", model="nets/my_cnn.py:build").name == "mnist-my_cnn-tf"
    assert StudyConfig(backend="tf", dataset="digits", model=build).name == "digits-build-tf"
    with pytest.raises(ModelError, match="must be mlp, cnn"):
        StudyConfig(backend="torch", model="vgg")


def test_hidden_widths_belong_to_the_mlp_only():
    with pytest.raises(ConfigError, match="hidden sets the widths of the built-in mlp") as caught:
        StudyConfig(backend="torch", model="cnn", train=TrainSettings(hidden=(64,)))
    assert "Leave --hidden out" in caught.value.render(lambda n: "--" + n.replace("_", "-"))


def test_workers_need_a_model_they_can_import():
    with pytest.raises(ConfigError, match="cannot be imported by name"):
        StudyConfig(backend="torch", workers=2, model=lambda s, k: None)
    StudyConfig(backend="torch", workers=2, model=build)  # a module-level function is fine
