// Umbrella module: re-exports the KerasDelta targets.
@_exported import Tensor
@_exported import HDF5
@_exported import Video
@_exported import Layers
@_exported import Training
@_exported import KerasIO
@_exported import VideoTraining
@_exported import Delta
@_exported import Streaming
