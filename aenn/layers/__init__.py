"""Keras layers: `from aenn import layers; layers.Dense(64, activation="relu")`."""

from .layer import Layer, Variable, get_layer_class  # noqa: F401  (first: the others subclass it)
from ..models.engine import Input, InputLayer  # noqa: F401
from .activation import ELU, Activation, Identity, LeakyReLU, ReLU, Softmax  # noqa: F401
from .conv import (  # noqa: F401
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Convolution1D, Convolution2D,
)
from .core import Dense, Flatten, Permute, RepeatVector, Reshape  # noqa: F401
from .merging import Add, Average, Concatenate, Multiply, Subtract  # noqa: F401
from .normalization import BatchNormalization  # noqa: F401
from .pooling import (  # noqa: F401
    AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D,
)
from .regularization import (  # noqa: F401
    ActivityRegularization, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
    SpatialDropout2D,
)
from .reshaping import Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D  # noqa: F401
from .sampling import Sampling  # noqa: F401
from .upsampling import UpSampling1D, UpSampling2D  # noqa: F401


def deserialize(config, custom_objects=None):
    """Builds a layer from {"class_name": ..., "config": ...}."""
    cls = (custom_objects or {}).get(config["class_name"]) or get_layer_class(config["class_name"])
    return cls.from_config(config["config"])


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
