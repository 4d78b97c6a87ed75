"""A user's own Keras CNN, written as in Keras' examples: batch normalization, and a softmax
output trained with sparse categorical cross-entropy. Used as
``--backend tf --model tests/user_models/keras_cnn.py:build``."""

import keras


def build(input_shape, n_classes):
    """``input_shape`` is ``(H, W, C)``; returns class probabilities."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
