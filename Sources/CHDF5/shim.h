#ifndef KERASDELTA_CHDF5_SHIM_H
#define KERASDELTA_CHDF5_SHIM_H

// Swift cannot import HDF5's identifier macros (they expand to calls such as
// `H5open(), H5T_NATIVE_FLOAT_g`) nor its function-like version macros, so this
// header wraps each one the HDF5 target needs in a `static inline` function.
// Version-dependent calls (1.10 vs 1.12+) are hidden here too.

#include <stdio.h>
#include <string.h>
#include <hdf5.h>

// MARK: Property lists, dataspaces, error stacks

static inline hid_t kd_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t kd_h5s_all(void) { return H5S_ALL; }
static inline hid_t kd_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t kd_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t kd_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t kd_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline unsigned kd_h5p_crt_order_tracked(void) { return H5P_CRT_ORDER_TRACKED; }
static inline unsigned kd_h5p_crt_order_indexed(void) { return H5P_CRT_ORDER_INDEXED; }

// MARK: File access flags

static inline unsigned kd_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned kd_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned kd_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned kd_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

// MARK: Datatypes

static inline size_t kd_h5t_variable(void) { return H5T_VARIABLE; }
static inline haddr_t kd_haddr_undef(void) { return HADDR_UNDEF; }
static inline hid_t kd_h5t_c_s1(void) { return H5T_C_S1; }

static inline hid_t kd_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t kd_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t kd_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t kd_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t kd_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }

static inline hid_t kd_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t kd_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t kd_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t kd_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t kd_h5t_std_u8le(void) { return H5T_STD_U8LE; }

// MARK: Errors

/// Turns off HDF5's automatic printing of error stacks to stderr for the
/// calling thread. The setting is per thread in thread-safe builds, so this
/// remembers per thread that it has already run; calling it again is cheap.
static inline void kd_h5_silence_error_printing(void) {
    static _Thread_local int silenced = 0;
    if (!silenced) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        silenced = 1;
    }
}

typedef struct {
    char *buffer;
    size_t size;
} kd_h5_error_sink;

static herr_t kd_h5_error_walker(unsigned n, const H5E_error2_t *error, void *client_data) {
    if (n != 0) return 0;
    kd_h5_error_sink *sink = (kd_h5_error_sink *)client_data;
    if (error->desc != NULL && error->desc[0] != '\0') {
        snprintf(sink->buffer, sink->size, "%s", error->desc);
    } else {
        H5Eget_msg(error->min_num, NULL, sink->buffer, sink->size);
    }
    return 0;
}

/// Copies the description of the innermost error on the calling thread's
/// HDF5 error stack (where the failure was detected) into `buffer`, or an
/// empty string when the stack is empty.
static inline void kd_h5_innermost_error(char *buffer, size_t size) {
    if (buffer == NULL || size == 0) return;
    buffer[0] = '\0';
    kd_h5_error_sink sink = {buffer, size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, kd_h5_error_walker, &sink);
}

// MARK: Variable-length strings without libhdf5's conversion

// libhdf5 1.10 converts a variable-length string by reading its global heap
// collection (H5T__conv_vlen -> H5HG_read), and a damaged collection makes it
// loop forever or read out of bounds. Reading into an opaque type tagged
// KD_VLEN_DESCRIPTOR_TAG, of the stored element's size, instead hands back each
// element as stored in the file: {uint32 length, heap collection address,
// uint32 object index}. The conversion below does nothing (source and
// destination have the same size); the reader checks every reference against
// the file before it copies a byte.

#define KD_VLEN_DESCRIPTOR_TAG "kerasdelta: variable-length descriptor"

static herr_t kd_vlen_descriptor_conversion(hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t count, size_t buf_stride,
                                            size_t bkg_stride, void *buf, void *bkg, hid_t dxpl) {
    (void)count; (void)buf_stride; (void)bkg_stride; (void)buf; (void)bkg; (void)dxpl;
    switch (cdata->command) {
    case H5T_CONV_INIT: {
        if (H5Tis_variable_str(src) <= 0 || H5Tget_class(dst) != H5T_OPAQUE) return -1;
        char *tag = H5Tget_tag(dst);
        int matches = tag != NULL && strcmp(tag, KD_VLEN_DESCRIPTOR_TAG) == 0;
        if (tag != NULL) H5free_memory(tag);
        if (!matches) return -1;
        cdata->need_bkg = H5T_BKG_NO;
        return 0;
    }
    case H5T_CONV_CONV:
        // The stored element is copied in place already; only its size must agree.
        return H5Tget_size(src) == H5Tget_size(dst) ? 0 : -1;
    case H5T_CONV_FREE:
        return 0;
    default:
        return -1;
    }
}

/// Registers the conversion from variable-length strings to descriptors; 0 on success.
static inline herr_t kd_h5_register_vlen_descriptor_conversion(void) {
    hid_t string = H5Tcopy(H5T_C_S1);
    hid_t opaque = H5Tcreate(H5T_OPAQUE, 16);
    herr_t status = -1;
    if (string >= 0 && opaque >= 0 && H5Tset_size(string, H5T_VARIABLE) >= 0
        && H5Tset_tag(opaque, KD_VLEN_DESCRIPTOR_TAG) >= 0) {
        status = H5Tregister(H5T_PERS_SOFT, "kerasdelta vlen descriptor", string, opaque, kd_vlen_descriptor_conversion);
    }
    if (string >= 0) H5Tclose(string);
    if (opaque >= 0) H5Tclose(opaque);
    return status;
}

/// An opaque type of `size` bytes that variable-length strings convert to as stored.
static inline hid_t kd_h5_vlen_descriptor_type(size_t size) {
    hid_t type = H5Tcreate(H5T_OPAQUE, size);
    if (type >= 0 && H5Tset_tag(type, KD_VLEN_DESCRIPTOR_TAG) < 0) {
        H5Tclose(type);
        return -1;
    }
    return type;
}

/// The sizes of file addresses and lengths, and the base address (the user
/// block's size), from the file creation properties; 0 on success.
static inline herr_t kd_h5_file_geometry(hid_t file, size_t *offset_size, size_t *length_size, hsize_t *base) {
    hid_t plist = H5Fget_create_plist(file);
    if (plist < 0) return -1;
    herr_t status = H5Pget_sizes(plist, offset_size, length_size);
    if (status >= 0) status = H5Pget_userblock(plist, base);
    H5Pclose(plist);
    return status;
}

/// Whether the file was opened for writing (1), read-only (0), or unknown (-1).
static inline int kd_h5_file_is_writable(hid_t file) {
    unsigned intent = 0;
    if (H5Fget_intent(file, &intent) < 0) return -1;
    return (intent & H5F_ACC_RDWR) ? 1 : 0;
}

// MARK: Version-dependent calls

/// Whether `path` is an HDF5 file (positive), is not (zero), or cannot be
/// checked (negative).
static inline htri_t kd_h5f_is_hdf5(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT);
#else
    return H5Fis_hdf5(path);
#endif
}

/// The type of the object `name` resolves to from `loc`, or H5O_TYPE_UNKNOWN
/// when it cannot be determined.
static inline H5O_type_t kd_h5_object_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#endif
    return info.type;
}

/// The number of attributes attached to `object`, or -1 on failure.
static inline long long kd_h5_attribute_count(hid_t object) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(object, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info2(object, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#endif
    return (long long)info.num_attrs;
}


#endif
