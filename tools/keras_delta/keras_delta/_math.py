"""The DeltaActivation math shared by the Keras 3 and tf-keras classes.

Everything here is plain TensorFlow, so both front ends compute bit-for-bit
the same forward, loss and gradients.
"""
import tensorflow as tf

CLAMP = 1e-6
GRANULARITIES = ("channel", "layer", "neuron")
THRESHOLD_GRADIENTS = ("lsq", "paper", "hybrid")

DEFAULTS = {
    "threshold_init": 0.1,
    "granularity": "channel",
    "trainable_threshold": True,
    "sparsity_weight": 1e-4,
    "fan_out": 1.0,
    "clip_length": None,
    "threshold_gradient": "lsq",
}


def check_options(granularity, clip_length, threshold_gradient):
    """Raises ValueError naming the argument when an option is not valid."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"DeltaActivation: granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if threshold_gradient not in THRESHOLD_GRADIENTS:
        raise ValueError(f"DeltaActivation: threshold_gradient must be one of {THRESHOLD_GRADIENTS}, "
                         f"got {threshold_gradient!r}")
    if clip_length is not None and (isinstance(clip_length, bool) or int(clip_length) != clip_length
                                    or clip_length < 1):
        raise ValueError(f"DeltaActivation: clip_length must be a positive int or None, got {clip_length!r}")


def threshold_shape(granularity, clip_length, input_shape, name):
    """Shape of the `threshold` weight for an input of `input_shape` (batch axis first)."""
    dims = tf.TensorShape(input_shape).as_list()
    if granularity == "channel":
        if len(dims) < 2 or dims[-1] is None:
            raise ValueError(f"DeltaActivation '{name}': granularity 'channel' needs a known last axis, "
                             f"got input shape {tuple(dims)}")
        return (dims[-1],)
    if granularity == "layer":
        return (1,)
    if clip_length is None and len(dims) < 3:
        raise ValueError(f"DeltaActivation '{name}': granularity 'neuron' with clip_length None needs an input "
                         f"[batch, time, ...] of rank >= 3, got input shape {tuple(dims)}")
    feature = dims[1:] if clip_length is not None else dims[2:]
    if any(d is None for d in feature):
        raise ValueError(f"DeltaActivation '{name}': granularity 'neuron' needs a fully known per-frame shape, "
                         f"got input shape {tuple(dims)}")
    return tuple(feature)


def step(threshold):
    """q = max(|threshold|, 1e-6): ties and the clamp as TensorFlow's maximum/abs differentiate them."""
    return tf.maximum(tf.abs(threshold), CLAMP)


def _sum_to(g, shape_of_x, shape_of_q):
    """Sums a gradient of x's shape down to q's (broadcast) shape."""
    _, axes = tf.raw_ops.BroadcastGradientArgs(s0=shape_of_x, s1=shape_of_q)
    return tf.reshape(tf.reduce_sum(g, axis=axes), shape_of_q)


def quantize(x, q, mode):
    """y = q * round_half_to_even(x / q), straight-through in x; dy/dq per `mode` ("lsq" or "paper")."""

    @tf.custom_gradient
    def _quantize(x, q):
        s = x / q
        r = tf.round(s)
        y = q * r

        def grad(dy):
            dq = dy * (r - s) if mode == "lsq" else dy * -r
            return dy, _sum_to(dq, tf.shape(x), tf.shape(q))

        return y, grad

    return _quantize(x, q)


def _is_training(training):
    if training is None:
        return False
    if isinstance(training, bool):
        return training
    value = tf.get_static_value(training)
    if value is None:
        raise ValueError("DeltaActivation: `training` must be a Python bool or a constant")
    return bool(value)


def _frames(x, clip_length, name):
    """Number of frames and, for frames-as-batch, the checked batch size."""
    batch = x.shape[0]
    if batch is not None:
        if batch % clip_length != 0:
            raise ValueError(f"DeltaActivation '{name}': batch of {batch} frames is not a multiple of "
                             f"clip_length {clip_length}")
        return []
    n = tf.shape(x)[0]
    return [tf.debugging.Assert(tf.equal(tf.math.floormod(n, clip_length), 0),
                                [f"DeltaActivation '{name}': batch of", n,
                                 f"frames is not a multiple of clip_length {clip_length}"])]


def delta_call(x, threshold, *, name, clip_length, threshold_gradient, sparsity_weight, fan_out, training):
    """The layer's forward: returns (y, loss), loss None when no loss is added.

    q = max(|threshold|, 1e-6); y = q * round(x / q). While training, with at
    least two frames per clip, loss = sparsity_weight * fan_out * mean(|D|)
    where D is the frame-to-frame difference of y (time axis 1, or runs of
    `clip_length` batch entries). "hybrid" gives the output the lsq gradient
    and the loss the paper one.
    """
    q = step(tf.cast(threshold, x.dtype))
    training = _is_training(training)
    # Only training reads the clips; at inference the layer is per element and any batch is fine.
    checks = _frames(x, clip_length, name) if clip_length is not None and training else []
    with tf.control_dependencies(checks):
        out_mode = "paper" if threshold_gradient == "paper" else "lsq"
        loss_mode = "lsq" if threshold_gradient == "lsq" else "paper"
        y = quantize(x, q, out_mode)
    if not training:
        return y, None
    if clip_length is not None:
        if clip_length < 2:
            return y, None
        y_loss = quantize(x, q, loss_mode)
        clips = tf.reshape(y_loss, tf.concat([[-1, clip_length], tf.shape(y_loss)[1:]], axis=0))
        time = clip_length
    else:
        if x.shape.rank is not None and x.shape.rank < 2:
            raise ValueError(f"DeltaActivation '{name}': clip_length None needs an input [batch, time, ...], "
                             f"got rank {x.shape.rank}")
        time = x.shape[1]
        if time is not None and time < 2:
            return y, None
        clips = quantize(x, q, loss_mode)
    delta = clips[:, 1:] - clips[:, :-1]
    weight = tf.constant(sparsity_weight * fan_out, dtype=x.dtype)  # one float64 product, rounded once
    if time is not None:
        return y, weight * tf.reduce_mean(tf.abs(delta))
    # Time not known while tracing: a clip of one frame adds a zero loss.
    loss = tf.cond(tf.shape(clips)[1] >= 2,
                   lambda: weight * tf.reduce_mean(tf.abs(delta)),
                   lambda: tf.zeros([], x.dtype))
    return y, loss
