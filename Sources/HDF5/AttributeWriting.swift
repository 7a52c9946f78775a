import CHDF5

/// Writing attributes. Each call replaces an existing attribute of the same
/// name, as assigning to h5py's `attrs[name]` does, and the caller chooses the
/// exact HDF5 form.
extension HDF5Object {
    /// Writes a scalar string attribute.
    ///
    /// Keras writes `str` values (`keras_version`) as `.utf8` `.variableLength`
    /// and `bytes` values (`model_config`) as `.ascii` `.variableLength`.
    /// - Throws: `.invalidArgument` if the string contains a NUL character.
    public func writeAttribute(_ name: String, string: String, encoding: StringEncoding = .utf8, form: StringForm) throws {
        try writeStrings(name, [string], shape: [], encoding: encoding, form: form)
    }

    /// Writes a 1-D string array attribute.
    ///
    /// Keras writes lists of names as `.ascii` `.variableLength`, and chunked
    /// lists (`layer_names0`, ...) as `.ascii` `.fixedLength(.nullPadded)`.
    /// - Throws: `.invalidArgument` if a string contains a NUL character.
    public func writeAttribute(_ name: String, strings: [String], encoding: StringEncoding = .utf8, form: StringForm) throws {
        try writeStrings(name, strings, shape: [strings.count], encoding: encoding, form: form)
    }

    /// Writes a numeric attribute with the given shape (1-D when `shape` is nil,
    /// scalar when it is `[]`), stored little-endian.
    /// - Throws: `.invalidArgument` if the shape does not match the value count.
    public func writeAttribute<T: HDF5Numeric>(_ name: String, values: [T], shape: [Int]? = nil) throws {
        guard let types = NumericTypes(T.self) else {
            throw error(.invalidArgument, "\(T.self) is not a supported HDF5 number type")
        }
        let shape = shape ?? [values.count]
        try checkShape(shape, matches: values.count, "attribute '\(name)'")
        try createAttribute(name, fileType: types.file, shape: shape) { attribute in
            values.isEmpty ? 0 : values.withUnsafeBytes { raw in
                raw.baseAddress.map { H5Awrite(attribute, types.memory, $0) } ?? -1
            }
        }
    }

    /// Writes a scalar numeric attribute.
    public func writeAttribute<T: HDF5Numeric>(_ name: String, scalar: T) throws {
        try writeAttribute(name, values: [scalar], shape: [])
    }

    /// Writes an empty float64 array of shape `(0,)`: what Keras's
    /// `np.asarray([])` stores for a layer without weights.
    public func writeEmptyAttribute(_ name: String) throws {
        try writeAttribute(name, values: [Double]())
    }

    /// Throws unless `shape` is non-negative and holds exactly `count` elements.
    func checkShape(_ shape: [Int], matches count: Int, _ subject: String) throws {
        var product = 1
        for size in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow else { throw error(.invalidArgument, "\(subject): invalid shape \(shape)") }
            product = next
        }
        guard product == count else {
            throw error(.invalidArgument, "\(subject): shape \(shape) holds \(product) elements but \(count) values were given")
        }
    }

    /// A dataspace for `shape`: scalar when empty, simple otherwise.
    func makeDataspace(_ shape: [Int]) throws -> Handle {
        let id = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(clamping: shape.count), shape.map { hsize_t($0) }, nil)
        return try file.own(id, .dataspace, objectPath, "creating a dataspace of shape \(shape) failed")
    }

    private func writeStrings(_ name: String, _ strings: [String], shape: [Int], encoding: StringEncoding, form: StringForm) throws {
        let encoded = strings.map { Array($0.utf8) }
        guard !encoded.contains(where: { $0.contains(0) }) else {
            throw error(.invalidArgument, "attribute '\(name)': strings must not contain NUL characters")
        }
        let type = try makeStringType(encoding, form, longest: encoded.map(\.count).max() ?? 0)
        try withExtendedLifetime(type) {
            switch form {
            case .variableLength:
                // One buffer of NUL-terminated strings, plus a pointer to each.
                var storage: [CChar] = []
                var offsets: [Int] = []
                for bytes in encoded {
                    offsets.append(storage.count)
                    storage.append(contentsOf: bytes.map { CChar(bitPattern: $0) })
                    storage.append(0)
                }
                try createAttribute(name, fileType: type.id, shape: shape) { attribute in
                    storage.withUnsafeBufferPointer { characters in
                        let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in characters.baseAddress.map { $0 + offset } }
                        return pointers.isEmpty ? 0 : pointers.withUnsafeBytes { raw in
                            raw.baseAddress.map { H5Awrite(attribute, type.id, $0) } ?? -1
                        }
                    }
                }
            case .fixedLength(let padding):
                let width = H5Tget_size(type.id)
                var buffer = [UInt8](repeating: padding.fillByte, count: width * encoded.count)
                for (index, bytes) in encoded.enumerated() {
                    buffer.replaceSubrange(index * width ..< index * width + bytes.count, with: bytes)
                    if padding == .nullTerminated { buffer[index * width + bytes.count] = 0 }
                }
                try createAttribute(name, fileType: type.id, shape: shape) { attribute in
                    buffer.isEmpty ? 0 : buffer.withUnsafeBytes { raw in
                        raw.baseAddress.map { H5Awrite(attribute, type.id, $0) } ?? -1
                    }
                }
            }
        }
    }

    /// A string datatype of `form`; fixed-length types are as wide as the
    /// longest string (`longest` bytes), plus one for the NUL when NUL-terminated.
    private func makeStringType(_ encoding: StringEncoding, _ form: StringForm, longest: Int) throws -> Handle {
        let type = try file.own(H5Tcopy(kd_h5t_c_s1()), .datatype, objectPath, "creating a string type failed")
        let status: herr_t = withExtendedLifetime(type) {
            guard H5Tset_cset(type.id, encoding.characterSet) >= 0 else { return -1 }
            switch form {
            case .variableLength:
                return H5Tset_size(type.id, kd_h5t_variable())
            case .fixedLength(let padding):
                let width = max(1, longest + (padding == .nullTerminated ? 1 : 0))
                guard H5Tset_size(type.id, width) >= 0 else { return -1 }
                return H5Tset_strpad(type.id, padding.strpad)
            }
        }
        try file.check(status, objectPath, "creating a string type failed")
        return type
    }

    /// Replaces attribute `name` with a new one of `fileType` and `shape`, then
    /// fills it with `write`. A failed write leaves no attribute behind.
    private func createAttribute(_ name: String, fileType: hid_t, shape: [Int], write: (hid_t) -> herr_t) throws {
        kd_h5_silence_error_printing()
        let subject = "attribute '\(name)'"
        guard !name.isEmpty else { throw error(.invalidArgument, "attribute names must not be empty") }
        if hasAttribute(name) {
            try file.check(H5Adelete(handle.id, name), objectPath, "replacing \(subject) failed")
        }
        let space = try makeDataspace(shape)
        let id = withExtendedLifetime(space) {
            H5Acreate2(handle.id, name, fileType, space.id, kd_h5p_default(), kd_h5p_default())
        }
        // The attribute closes when this closure returns, before any cleanup.
        let status: herr_t = try {
            let attribute = try file.own(id, .attribute, objectPath, "creating \(subject) failed")
            return withExtendedLifetime(attribute) { write(attribute.id) }
        }()
        guard status >= 0 else {
            let failure = file.libraryError(objectPath, "writing \(subject) failed")
            H5Adelete(handle.id, name)
            throw failure
        }
    }
}
