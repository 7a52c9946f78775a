extension LayerCatalog {
    /// The recurrent layers, their cells and the wrappers, by Keras class name.
    static let recurrent: [(String, Layer.Type)] = [
        ("RNN", RNN.self), ("SimpleRNN", SimpleRNN.self), ("LSTM", LSTM.self), ("GRU", GRU.self),
        ("SimpleRNNCell", SimpleRNNCell.self), ("LSTMCell", LSTMCell.self), ("GRUCell", GRUCell.self),
        ("ConvLSTM1D", ConvLSTM1D.self), ("ConvLSTM2D", ConvLSTM2D.self), ("ConvLSTM3D", ConvLSTM3D.self),
        ("TimeDistributed", TimeDistributed.self), ("Bidirectional", Bidirectional.self),
    ]
}
