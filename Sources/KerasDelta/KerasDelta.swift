// Umbrella module: re-exports the KerasDelta targets.
@_exported import Tensor
@_exported import HDF5
@_exported import Video
