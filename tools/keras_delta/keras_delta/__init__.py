"""keras_delta: the DeltaActivation layer of KerasDelta for Keras 3 and tf-keras.

Importing it registers `keras_delta>DeltaActivation` in Keras 3 and, when
tf-keras is installed, in tf-keras, so `load_model` reads delta models.
`keras_delta.DeltaActivation` is the Keras 3 class; the tf-keras one is
`keras_delta.tf_keras.DeltaActivation`.
"""
from . import _math
from .keras3 import DeltaActivation

try:
    from . import tf_keras
except ImportError:  # tf-keras not installed: Keras 3 only
    tf_keras = None

__all__ = ["DeltaActivation", "tf_keras"]
__version__ = "0.1.0"
