"""DeltaActivation for tf-keras (Keras 2), registered as `keras_delta>DeltaActivation`."""
import tf_keras

from ._layer import DeltaLayerMixin


@tf_keras.utils.register_keras_serializable(package="keras_delta")
class DeltaActivation(DeltaLayerMixin, tf_keras.layers.Layer):
    """Quantizes to a trainable step and penalises frame-to-frame changes (see DELTA_SPEC)."""

    def _constant(self, value):
        return tf_keras.initializers.Constant(value)
