"""DeltaActivation for Keras 3 (TensorFlow backend), registered as `keras_delta>DeltaActivation`."""
import keras

from ._layer import DeltaLayerMixin


@keras.saving.register_keras_serializable(package="keras_delta")
class DeltaActivation(DeltaLayerMixin, keras.layers.Layer):
    """Quantizes to a trainable step and penalises frame-to-frame changes (see DELTA_SPEC)."""

    def _constant(self, value):
        return keras.initializers.Constant(value)
