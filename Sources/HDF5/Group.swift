import CHDF5

/// What a name in a group refers to.
public enum ObjectKind: Equatable, Sendable {
    case group, dataset
    /// A named datatype or an object HDF5 cannot classify.
    case other
}

/// A group: a directory of named groups and datasets. Paths given to its
/// methods are relative to the group, or absolute when they start with `/`,
/// and may contain `/` (`"dense/kernel:0"`).
public class Group: HDF5Object {
    /// Whether `path` names an existing object (a dangling link does not count).
    public func contains(_ path: String) -> Bool {
        file.guarded(objectPath, "looking up '\(path)'") { exists(path) }
    }

    private func exists(_ path: String) -> Bool {
        kd_h5_silence_error_printing()
        let components = path.split(separator: "/")
        guard !components.isEmpty else { return path.hasPrefix("/") }
        // H5Lexists fails on a missing intermediate group, so test each prefix.
        var prefix = path.hasPrefix("/") ? "/" : ""
        for (index, component) in components.enumerated() {
            prefix += (index == 0 ? "" : "/") + component
            guard H5Lexists(handle.id, prefix, kd_h5p_default()) > 0 else { return false }
        }
        return H5Oexists_by_name(handle.id, prefix, kd_h5p_default()) > 0
    }

    /// Whether `path` is a group, a dataset or something else.
    /// - Throws: `.notFound` when nothing exists at `path`.
    public func kind(of path: String) throws -> ObjectKind {
        guard contains(path) else { throw error(.notFound, "'\(path)' not found") }
        switch file.guarded(objectPath, "reading the type of '\(path)'", { kd_h5_object_type(handle.id, path) }) {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }

    /// The names of the group's direct children.
    ///
    /// `.creation` order needs a file that tracks it, as files written by this
    /// library and by h5py with `track_order=True` do; otherwise the names come
    /// in name order.
    public func childNames(order: IterationOrder = .name) throws -> [String] {
        try file.guarded(objectPath, "listing the group") { try readChildNames(order: order) }
    }

    private func readChildNames(order: IterationOrder) throws -> [String] {
        kd_h5_silence_error_printing()
        var info = H5G_info_t()
        try file.check(H5Gget_info(handle.id, &info), objectPath, "reading group information failed")
        var index = H5_INDEX_NAME
        if order == .creation {
            var flags: UInt32 = 0
            try file.check(try withCreationProperties { H5Pget_link_creation_order($0, &flags) }, objectPath,
                           "reading link creation order failed")
            if flags & kd_h5p_crt_order_indexed() != 0 { index = H5_INDEX_CRT_ORDER }
        }
        // Appends one by one: a corrupted link count must not reserve memory up front.
        var names: [String] = []
        var position: hsize_t = 0
        while position < info.nlinks {
            names.append(try file.readName(objectPath, "reading the name of child \(position) failed") { buffer, size in
                H5Lget_name_by_idx(handle.id, ".", index, H5_ITER_INC, position, buffer, size, kd_h5p_default())
            })
            position += 1
        }
        return names
    }

    /// Opens the group at `path`.
    /// - Throws: `.notFound` when it does not exist, `.typeMismatch` when it is not a group.
    public func group(_ path: String) throws -> Group {
        try requireKind(.group, at: path)
        let id = file.guarded(self.path(of: path), "opening the group") { H5Gopen2(self.handle.id, path, kd_h5p_default()) }
        let handle = try file.own(id, .group, self.path(of: path), "opening group failed")
        return Group(file: file, handle: handle, objectPath: self.path(of: path))
    }

    /// Opens the dataset at `path`.
    /// - Throws: `.notFound` when it does not exist, `.typeMismatch` when it is not a dataset.
    public func dataset(_ path: String) throws -> Dataset {
        try requireKind(.dataset, at: path)
        let id = file.guarded(self.path(of: path), "opening the dataset") { H5Dopen2(self.handle.id, path, kd_h5p_default()) }
        let handle = try file.own(id, .dataset, self.path(of: path), "opening dataset failed")
        return try file.guarded(self.path(of: path), "reading the dataset's type and shape") {
            try Dataset(file, handle, at: self.path(of: path))
        }
    }

    /// Creates a group at `path`, and any missing groups on the way. New
    /// groups track the creation order of their children and attributes and
    /// store no modification time.
    /// - Throws: `.alreadyExists` when something exists at `path`.
    @discardableResult
    public func createGroup(_ path: String) throws -> Group {
        try requireAbsent(path, "group")
        let linkProperties = try makeLinkProperties()
        let groupProperties = try file.own(H5Pcreate(kd_h5p_group_create()), .propertyList, objectPath,
                                           "creating group properties failed")
        let configured = withExtendedLifetime(groupProperties) { configureGroupCreation(groupProperties.id) }
        try file.check(configured, objectPath, "creating group properties failed")
        let id = withExtendedLifetime((linkProperties, groupProperties)) {
            H5Gcreate2(self.handle.id, path, linkProperties.id, groupProperties.id, kd_h5p_default())
        }
        let handle = try file.own(id, .group, self.path(of: path), "creating group failed")
        return Group(file: file, handle: handle, objectPath: self.path(of: path))
    }

    /// Creates a contiguous dataset at `path` (creating missing groups on the
    /// way) holding `values` in row-major order, stored little-endian without
    /// a modification time (like h5py). `shape` `[]` makes a scalar.
    ///
    ///     try weights.createDataset("dense/kernel", shape: [4, 3], values: kernel)
    /// - Throws: `.alreadyExists` when something exists at `path`,
    ///   `.invalidArgument` when `shape` does not hold `values.count` elements.
    @discardableResult
    public func createDataset<T: HDF5Numeric>(_ path: String, shape: [Int], values: [T]) throws -> Dataset {
        guard let types = NumericTypes(T.self) else {
            throw error(.invalidArgument, "\(T.self) is not a supported HDF5 number type")
        }
        try checkShape(shape, matches: values.count, "dataset '\(path)'")
        try requireAbsent(path, "dataset")
        let space = try makeDataspace(shape)
        let linkProperties = try makeLinkProperties()
        let datasetProperties = try file.own(H5Pcreate(kd_h5p_dataset_create()), .propertyList, objectPath,
                                             "creating dataset properties failed")
        let configured = withExtendedLifetime(datasetProperties) { H5Pset_obj_track_times(datasetProperties.id, false) }
        try file.check(configured, objectPath, "creating dataset properties failed")
        let id = withExtendedLifetime((space, linkProperties, datasetProperties)) {
            H5Dcreate2(self.handle.id, path, types.file, space.id, linkProperties.id, datasetProperties.id, kd_h5p_default())
        }
        let handle = try file.own(id, .dataset, self.path(of: path), "creating dataset failed")
        let status = values.isEmpty ? 0 : values.withUnsafeBytes { raw in
            raw.baseAddress.map { H5Dwrite(handle.id, types.memory, kd_h5s_all(), kd_h5s_all(), kd_h5p_default(), $0) } ?? -1
        }
        guard status >= 0 else {
            let failure = file.libraryError(self.path(of: path), "writing dataset failed")
            H5Ldelete(self.handle.id, path, kd_h5p_default())
            throw failure
        }
        return try Dataset(file, handle, at: self.path(of: path))
    }

    // MARK: Helpers

    private func requireKind(_ expected: ObjectKind, at path: String) throws {
        guard contains(path) else { throw error(.notFound, "\(expected) '\(path)' not found") }
        let actual = try kind(of: path)
        guard actual == expected else {
            throw error(.typeMismatch, "'\(path)' is a \(actual), not a \(expected)")
        }
    }

    private func requireAbsent(_ path: String, _ what: String) throws {
        guard !path.split(separator: "/").isEmpty else { throw error(.invalidArgument, "invalid \(what) path '\(path)'") }
        guard !contains(path) else { throw error(.alreadyExists, "\(what) '\(path)': an object with that name already exists") }
    }

    /// Link properties that create missing intermediate groups; HDF5 gives
    /// those the parent's creation-order tracking.
    private func makeLinkProperties() throws -> Handle {
        let properties = try file.own(H5Pcreate(kd_h5p_link_create()), .propertyList, objectPath,
                                      "creating link properties failed")
        let status = withExtendedLifetime(properties) { H5Pset_create_intermediate_group(properties.id, 1) }
        try file.check(status, objectPath, "creating link properties failed")
        return properties
    }
}

/// Makes groups created with `properties` (a group or file creation property
/// list) track and index the creation order of their links and attributes,
/// and store no modification time, so equal content gives equal bytes.
/// Returns a negative status on failure.
func configureGroupCreation(_ properties: hid_t) -> herr_t {
    let flags = kd_h5p_crt_order_tracked() | kd_h5p_crt_order_indexed()
    guard H5Pset_link_creation_order(properties, flags) >= 0,
          H5Pset_attr_creation_order(properties, flags) >= 0 else { return -1 }
    return H5Pset_obj_track_times(properties, false)
}
