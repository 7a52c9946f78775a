import CHDF5

/// The order in which names are listed.
public enum IterationOrder: Sendable {
    /// Sorted by name (byte order), as HDF5 and h5py list them by default.
    case name
    /// The order the objects were created in. Falls back to name order when
    /// the file does not track creation order for that object.
    case creation
}

/// A group or dataset: something that lives at a path in a file and carries
/// attributes.
public class HDF5Object {
    let file: OpenFile
    let handle: Handle
    /// The absolute path of the object inside the file, e.g. `/model_weights/dense`.
    public let objectPath: String

    init(file: OpenFile, handle: Handle, objectPath: String) {
        self.file = file
        self.handle = handle
        self.objectPath = objectPath
    }

    /// The path of the file, as given when it was opened.
    public var filePath: String { file.path }

    func error(_ kind: HDF5Error.Kind, _ message: String) -> HDF5Error {
        file.error(kind, objectPath, message)
    }

    /// The absolute path of `name` taken relative to this object.
    func path(of name: String) -> String {
        if name.hasPrefix("/") { return name }
        return objectPath == "/" ? "/" + name : objectPath + "/" + name
    }

    /// Calls `body` with the object's creation property list, which records
    /// its storage layout and whether creation order is tracked.
    func withCreationProperties<R>(_ body: (hid_t) throws -> R) throws -> R {
        let id = handle.kind == .dataset ? H5Dget_create_plist(handle.id) : H5Gget_create_plist(handle.id)
        let properties = try file.own(id, .propertyList, objectPath, "reading creation properties failed")
        return try withExtendedLifetime(properties) { try body(properties.id) }
    }

    // MARK: Attributes

    /// Whether an attribute called `name` is attached to this object.
    public func hasAttribute(_ name: String) -> Bool {
        kd_h5_silence_error_printing()
        return file.guarded(objectPath, "looking up attribute '\(name)'") { H5Aexists(handle.id, name) > 0 }
    }

    /// The names of the attributes attached to this object.
    public func attributeNames(order: IterationOrder = .name) throws -> [String] {
        try file.guarded(objectPath, "listing attributes") { try readAttributeNames(order: order) }
    }

    private func readAttributeNames(order: IterationOrder) throws -> [String] {
        kd_h5_silence_error_printing()
        let count = kd_h5_attribute_count(handle.id)
        try file.check(count, objectPath, "counting attributes failed")
        var index = H5_INDEX_NAME
        if order == .creation {
            var flags: UInt32 = 0
            try file.check(try withCreationProperties { H5Pget_attr_creation_order($0, &flags) }, objectPath,
                           "reading attribute creation order failed")
            if flags & kd_h5p_crt_order_indexed() != 0 { index = H5_INDEX_CRT_ORDER }
        }
        // Appends one by one: a corrupted attribute count must not reserve memory up front.
        var names: [String] = []
        var position: hsize_t = 0
        while position < count {
            names.append(try file.readName(objectPath, "reading the name of attribute \(position) failed") { buffer, size in
                H5Aget_name_by_idx(handle.id, ".", index, H5_ITER_INC, position, buffer, size, kd_h5p_default())
            })
            position += 1
        }
        return names
    }

    /// The attribute called `name`.
    /// - Throws: `HDF5Error` of kind `.notFound` when there is none.
    public func attribute(_ name: String) throws -> Attribute {
        guard hasAttribute(name) else { throw error(.notFound, "attribute '\(name)' not found") }
        return try file.guarded(objectPath, "opening attribute '\(name)'") {
            let handle = try file.own(H5Aopen(self.handle.id, name, kd_h5p_default()), .attribute, objectPath,
                                      "opening attribute '\(name)' failed")
            return try Attribute(file: file, handle: handle, name: name, objectPath: objectPath)
        }
    }

    /// Removes the attribute called `name`.
    /// - Throws: `HDF5Error` of kind `.notFound` when there is none.
    public func deleteAttribute(_ name: String) throws {
        guard hasAttribute(name) else { throw error(.notFound, "attribute '\(name)' not found") }
        try file.check(H5Adelete(handle.id, name), objectPath, "deleting attribute '\(name)' failed")
    }
}
