"""Golden fixtures for the recurrent layers and wrappers: SimpleRNN, LSTM, GRU
(reset_after true and false), ConvLSTM1D/2D/3D, RNN around cells,
TimeDistributed and Bidirectional, from Keras 3 and tf-keras.

Run: cd tools && ../.venv/bin/python gen_layer_fixtures_recurrent.py
"""
import numpy as np
import keras
import tf_keras
from layer_fixtures import clean, save_case

FAMILY = "recurrent"


def main():
    clean(FAMILY)
    rng = np.random.default_rng(3)
    x = lambda *s: rng.uniform(-1.5, 1.5, size=s).astype(np.float32)
    L = keras.layers
    K2 = tf_keras.layers

    def case(name, layer, *shape):
        save_case(FAMILY, name, layer, [x(*shape)], rng)

    # SimpleRNN
    case("simple_rnn_last", L.SimpleRNN(3), 2, 4, 3)
    case("simple_rnn_seq_backwards_relu", L.SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True), 2, 5, 2)
    case("simple_rnn_state_no_bias", L.SimpleRNN(2, use_bias=False, return_state=True), 2, 3, 4)

    # LSTM
    case("lstm_last", L.LSTM(4), 2, 5, 3)
    case("lstm_seq", L.LSTM(3, return_sequences=True), 2, 4, 3)
    case("lstm_seq_state", L.LSTM(3, return_sequences=True, return_state=True), 2, 4, 2)
    case("lstm_backwards", L.LSTM(3, go_backwards=True), 2, 5, 2)
    case("lstm_backwards_seq_state", L.LSTM(2, go_backwards=True, return_sequences=True, return_state=True), 2, 4, 3)
    case("lstm_no_bias_hard_sigmoid", L.LSTM(3, use_bias=False, activation="relu", recurrent_activation="hard_sigmoid"), 2, 4, 3)
    case("lstm_regularized", L.LSTM(2, kernel_regularizer="l2", recurrent_regularizer=keras.regularizers.L1(0.05),
                                     bias_regularizer="l1", activity_regularizer="l2", kernel_constraint="max_norm",
                                     return_state=True), 2, 3, 3)
    case("lstm_dropout_inference", L.LSTM(3, dropout=0.3, recurrent_dropout=0.2, unit_forget_bias=False, unroll=True), 2, 4, 3)

    # GRU
    case("gru_last", L.GRU(4), 2, 5, 3)
    case("gru_seq_state", L.GRU(3, return_sequences=True, return_state=True), 2, 4, 2)
    case("gru_backwards_seq", L.GRU(3, go_backwards=True, return_sequences=True), 2, 4, 3)
    case("gru_no_bias", L.GRU(3, use_bias=False), 2, 3, 3)
    case("gru_reset_before_seq", L.GRU(3, reset_after=False, return_sequences=True), 2, 4, 3)
    case("gru_reset_before_backwards_state", L.GRU(2, reset_after=False, go_backwards=True, return_state=True), 2, 5, 3)
    case("gru_reset_before_no_bias", L.GRU(3, reset_after=False, use_bias=False, activation="softsign"), 2, 3, 2)

    # ConvLSTM
    case("conv_lstm2d_valid", L.ConvLSTM2D(2, 3), 2, 3, 5, 5, 2)
    case("conv_lstm2d_same_seq_state", L.ConvLSTM2D(2, (3, 2), padding="same", return_sequences=True, return_state=True),
         2, 3, 4, 4, 1)
    case("conv_lstm2d_strides_backwards", L.ConvLSTM2D(3, 2, strides=2, padding="same", go_backwards=True), 2, 3, 5, 4, 2)
    case("conv_lstm2d_dilation_no_bias", L.ConvLSTM2D(2, 2, dilation_rate=2, use_bias=False, return_sequences=True), 2, 2, 5, 5, 1)
    case("conv_lstm1d", L.ConvLSTM1D(3, 2, return_sequences=True), 2, 3, 6, 2)
    case("conv_lstm3d", L.ConvLSTM3D(2, 2, padding="same"), 2, 2, 3, 3, 3, 1)

    # RNN around a cell
    case("rnn_lstm_cell", L.RNN(L.LSTMCell(3), return_state=True), 2, 4, 3)
    case("rnn_gru_cell_seq", L.RNN(L.GRUCell(2, reset_after=False), return_sequences=True), 2, 3, 3)
    case("rnn_simple_rnn_cell_backwards", L.RNN(L.SimpleRNNCell(3), go_backwards=True), 2, 4, 2)

    # TimeDistributed
    case("time_distributed_dense", L.TimeDistributed(L.Dense(3, activation="tanh")), 2, 4, 5)
    case("time_distributed_dense_rank4", L.TimeDistributed(L.Dense(2)), 2, 3, 2, 4)
    case("time_distributed_conv2d", L.TimeDistributed(L.Conv2D(2, 3, padding="same", activation="relu")), 2, 3, 4, 4, 2)
    case("time_distributed_lstm", L.TimeDistributed(L.LSTM(2)), 2, 3, 4, 3)

    # Bidirectional
    case("bidirectional_lstm_concat_seq", L.Bidirectional(L.LSTM(3, return_sequences=True)), 2, 4, 3)
    case("bidirectional_gru_sum", L.Bidirectional(L.GRU(3), merge_mode="sum"), 2, 4, 3)
    case("bidirectional_simple_rnn_mul_seq", L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode="mul"), 2, 3, 3)
    case("bidirectional_lstm_ave", L.Bidirectional(L.LSTM(2), merge_mode="ave"), 2, 5, 2)
    case("bidirectional_gru_none_seq", L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode=None), 2, 3, 2)
    case("bidirectional_lstm_state", L.Bidirectional(L.LSTM(2, return_state=True)), 2, 4, 3)
    case("bidirectional_lstm_none_state", L.Bidirectional(L.LSTM(2, return_sequences=True, return_state=True), merge_mode=None),
         2, 3, 2)
    case("bidirectional_backward_layer",
         L.Bidirectional(L.LSTM(3, return_sequences=True),
                         backward_layer=L.GRU(2, go_backwards=True, return_sequences=True, name="gru_back")), 2, 4, 3)

    # tf-keras (Keras 2) configs: time_major, implementation, hard_sigmoid defaults, other weight names.
    case("k2_lstm_seq", K2.LSTM(3, return_sequences=True), 2, 4, 3)
    case("k2_lstm_time_major", K2.LSTM(3, time_major=True, return_sequences=True, return_state=True), 4, 2, 3)
    case("k2_lstm_hard_sigmoid", K2.LSTM(2, recurrent_activation="hard_sigmoid"), 2, 4, 3)
    case("k2_gru", K2.GRU(3), 2, 4, 3)
    case("k2_gru_reset_before_state", K2.GRU(3, reset_after=False, return_state=True), 2, 4, 2)
    case("k2_simple_rnn_backwards", K2.SimpleRNN(3, go_backwards=True, return_sequences=True), 2, 3, 2)
    case("k2_conv_lstm2d", K2.ConvLSTM2D(2, 2, return_sequences=True), 2, 3, 4, 4, 1)
    case("k2_rnn_lstm_cell", K2.RNN(K2.LSTMCell(2)), 2, 3, 3)
    case("k2_time_distributed_dense", K2.TimeDistributed(K2.Dense(3)), 2, 4, 3)
    case("k2_bidirectional_lstm_concat", K2.Bidirectional(K2.LSTM(2, return_sequences=True)), 2, 4, 3)
    case("k2_bidirectional_backward_layer",
         K2.Bidirectional(K2.GRU(2), merge_mode="sum", backward_layer=K2.GRU(2, go_backwards=True, name="gru_back")), 2, 4, 3)
    case("k2_bidirectional_time_major", K2.Bidirectional(K2.LSTM(2, time_major=True, return_sequences=True), merge_mode="ave"),
         3, 2, 2)


if __name__ == "__main__":
    main()
