"""A user's own Keras CNN, written as in Keras' examples: batch normalization, and a softmax
output trained with sparse categorical cross-entropy. Used as
``--backend tf --model tests/user_models/keras_cnn.py:build``.

Batch normalization's momentum is 0.9 (PyTorch's 0.1), not Keras' 0.99: with 0.99 its moving
statistics, which the model predicts with, need several hundred steps to catch up with the
batches', more than the tests' two short epochs give (the predictions stay near chance).
"""

import keras


def build(input_shape, n_classes):
    """``input_shape`` is ``(H, W, C)``; returns class probabilities."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
