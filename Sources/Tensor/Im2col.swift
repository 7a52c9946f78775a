// im2col / col2im: the patch matrix that turns a convolution into one GEMM.
//
// Row `r` of the column matrix is output pixel `r` (row-major over
// [batch, D', H', W']); its columns are ordered (group, kd, kh, kw, channel),
// so group g's block is the [rows, taps·Cg] submatrix at column g·taps·Cg that
// multiplies the [taps·Cg, Cout/groups] slice of the DHWIO kernel.

/// The patch-matrix layout of a grouped convolution.
struct ColumnLayout {
    let geometry: WindowGeometry
    let groups: Int
    /// Input channels per group.
    let groupChannels: Int
    /// Columns per group: taps · groupChannels.
    var groupWidth: Int { geometry.window.product * groupChannels }
    /// Columns of the whole matrix: groups · groupWidth.
    var width: Int { groups * groupWidth }
    /// Whether a window row's taps form one contiguous run of the input (no
    /// width dilation, one group), so im2col copies whole runs.
    var copiesRuns: Bool { groups == 1 && geometry.dilations.w == 1 }
}

/// A block of output lines whose patch rows fit the column buffer: whole
/// images, whole depth planes of one image, or lines of one plane. Both its
/// output lines and the input lines they read are boxes, so col2im can split
/// the input side evenly across cores.
struct ColumnChunk {
    /// Output line indices, contiguous.
    let lines: Range<Int>
    let images: ClosedRange<Int>
    /// Input depth and row ranges read by the chunk (empty when all padding).
    let inputDepths: Range<Int>
    let inputRows: Range<Int>

    /// Splits all output lines of `g` into chunks of at most `maxLines` lines
    /// (fewer when a chunk would straddle an image or plane boundary).
    static func plan(_ g: WindowGeometry, maxLines: Int) -> [ColumnChunk] {
        let (od, oh) = (g.output.d, g.output.h)
        var chunks: [ColumnChunk] = []
        func add(images: ClosedRange<Int>, depths: ClosedRange<Int>, rows: ClosedRange<Int>) {
            let first = (images.lowerBound * od + depths.lowerBound) * oh + rows.lowerBound
            let last = (images.upperBound * od + depths.upperBound) * oh + rows.upperBound
            chunks.append(ColumnChunk(
                lines: first..<(last + 1), images: images,
                inputDepths: inputRange(depths, stride: g.strides.d, dilation: g.dilations.d,
                                        taps: g.window.d, pad: g.padBefore.d, size: g.input.d),
                inputRows: inputRange(rows, stride: g.strides.h, dilation: g.dilations.h,
                                      taps: g.window.h, pad: g.padBefore.h, size: g.input.h)))
        }
        if od * oh <= maxLines {
            let perChunk = maxLines / (od * oh)
            for n in stride(from: 0, to: g.batch, by: perChunk) {
                add(images: n...Swift.min(g.batch, n + perChunk) - 1, depths: 0...od - 1, rows: 0...oh - 1)
            }
        } else if oh <= maxLines {
            let perChunk = maxLines / oh
            for n in 0..<g.batch {
                for d in stride(from: 0, to: od, by: perChunk) {
                    add(images: n...n, depths: d...Swift.min(od, d + perChunk) - 1, rows: 0...oh - 1)
                }
            }
        } else {
            for n in 0..<g.batch {
                for d in 0..<od {
                    for h in stride(from: 0, to: oh, by: maxLines) {
                        add(images: n...n, depths: d...d, rows: h...Swift.min(oh, h + maxLines) - 1)
                    }
                }
            }
        }
        return chunks
    }

    /// The input indices that windows at `outputs` read along one axis.
    private static func inputRange(_ outputs: ClosedRange<Int>, stride: Int, dilation: Int, taps: Int,
                                   pad: Int, size: Int) -> Range<Int> {
        let lo = Swift.max(0, outputs.lowerBound * stride - pad)
        let hi = Swift.min(size, outputs.upperBound * stride - pad + (taps - 1) * dilation + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// Input lines read by the chunk.
    var inputLineCount: Int { images.count * inputDepths.count * inputRows.count }
}

extension ColumnLayout {
    /// Writes the patch rows of `chunk`'s output lines to `columns`, which
    /// holds `chunk.lines.count · W'` rows of `width` floats. Padding taps are
    /// zero. Runs on all cores when `parallel`.
    func im2col(_ input: UnsafePointer<Float>, chunk: ColumnChunk, into columns: UnsafeMutablePointer<Float>,
                parallel: Bool = true) {
        let g = geometry
        let (ow, cin, cg) = (g.output.w, g.channels, groupChannels)
        let (kd, kh, kw) = (g.window.d, g.window.h, g.window.w)
        let width = self.width, runs = copiesRuns
        let firstLine = chunk.lines.lowerBound
        let grain = parallel ? Swift.max(1, 16_384 / Swift.max(1, ow * width)) : chunk.lines.count
        // The output columns whose window lies inside the input along the width: all taps, no bounds to work out.
        let (sw, dw, pw, iw) = (g.strides.w, g.dilations.w, g.padBefore.w, g.input.w)
        let last = iw - 1 - (kw - 1) * dw + pw, first = (pw + sw - 1) / sw
        let interior = first..<Swift.max(first, last >= 0 ? last / sw + 1 : 0)
        parallelFor(chunk.lines.count, grain: grain) { range in
            // Per window row (a, b) of the line: the offset of its input row, or −1 inside the padding.
            let rowOffsets = UnsafeMutablePointer<Int>.allocate(capacity: kd * kh)
            defer { rowOffsets.deallocate() }
            for local in range {
                let (n, od, oh) = g.outputCoordinates(firstLine + local)
                for a in 0..<kd {
                    let id = od * g.strides.d - g.padBefore.d + a * g.dilations.d
                    for b in 0..<kh {
                        let ih = oh * g.strides.h - g.padBefore.h + b * g.dilations.h
                        let inside = id >= 0 && id < g.input.d && ih >= 0 && ih < g.input.h
                        rowOffsets[a * kh + b] = inside ? ((n * g.input.d + id) * g.input.h + ih) * iw * cin : -1
                    }
                }
                var dst = columns + local * ow * width
                for x in 0..<ow {
                    let start = x &* sw &- pw
                    let taps = interior.contains(x) ? 0..<kw : WindowGeometry.validTaps(start: start, taps: kw, dilation: dw, size: iw)
                    for group in 0..<groups {
                        for ab in 0..<(kd &* kh) {
                            let offset = rowOffsets[ab]
                            guard offset >= 0, !taps.isEmpty else {
                                zeroRun(dst, kw &* cg)
                                dst += kw &* cg
                                continue
                            }
                            let row = input + (offset &+ group &* cg)
                            if runs {
                                zeroRun(dst, taps.lowerBound &* cin)
                                copyRun(dst + taps.lowerBound &* cin, row + (start &+ taps.lowerBound) &* cin, taps.count &* cin)
                                zeroRun(dst + taps.upperBound &* cin, (kw &- taps.upperBound) &* cin)
                            } else {
                                for c in 0..<kw {
                                    if taps.contains(c) {
                                        copyRun(dst + c &* cg, row + (start &+ c &* dw) &* cin, cg)
                                    } else {
                                        zeroRun(dst + c &* cg, cg)
                                    }
                                }
                            }
                            dst += kw &* cg
                        }
                    }
                }
            }
        }
    }

    /// Adds the patch rows of `chunk` in `columns` back into the input-shaped
    /// `target` (the adjoint of ``im2col(_:chunk:into:)``). Each input line
    /// gathers from the patch rows that read it, so lines split across cores
    /// without write races.
    func col2im(_ columns: UnsafePointer<Float>, chunk: ColumnChunk, into target: UnsafeMutablePointer<Float>) {
        let g = geometry
        let (ow, cin, cg) = (g.output.w, g.channels, groupChannels)
        let (kd, kh, kw) = (g.window.d, g.window.h, g.window.w)
        let width = self.width, groupWidth = self.groupWidth, runs = copiesRuns
        let depths = chunk.inputDepths, rows = chunk.inputRows
        let linesPerImage = depths.count * rows.count
        parallelFor(chunk.inputLineCount, grain: Swift.max(1, 16_384 / Swift.max(1, ow * width))) { range in
            for item in range {
                let n = chunk.images.lowerBound + item / linesPerImage
                let id = depths.lowerBound + item % linesPerImage / rows.count
                let ih = rows.lowerBound + item % rows.count
                let line = target + ((n * g.input.d + id) * g.input.h + ih) * g.input.w * cin
                for a in 0..<kd {
                    guard let od = WindowGeometry.source(id, tap: a, stride: g.strides.d, dilation: g.dilations.d,
                                                         pad: g.padBefore.d, outputs: g.output.d) else { continue }
                    for b in 0..<kh {
                        guard let oh = WindowGeometry.source(ih, tap: b, stride: g.strides.h, dilation: g.dilations.h,
                                                             pad: g.padBefore.h, outputs: g.output.h) else { continue }
                        let outLine = (n * g.output.d + od) * g.output.h + oh
                        guard chunk.lines.contains(outLine) else { continue }
                        var src = columns + (outLine - chunk.lines.lowerBound) * ow * width + (a * kh + b) * kw * cg
                        for x in 0..<ow {
                            let start = x * g.strides.w - g.padBefore.w
                            let taps = WindowGeometry.validTaps(start: start, taps: kw, dilation: g.dilations.w,
                                                                size: g.input.w)
                            if runs {
                                accumulate(line + (start + taps.lowerBound) * cin, src + taps.lowerBound * cin,
                                           count: taps.count * cin)
                            } else {
                                for group in 0..<groups {
                                    for c in taps {
                                        accumulate(line + (start + c * g.dilations.w) * cin + group * cg,
                                                   src + group * groupWidth + c * cg, count: cg)
                                    }
                                }
                            }
                            src += width
                        }
                    }
                }
            }
        }
    }
}

/// Copies `count` floats: a short run (a window row of a first layer: 3×3
/// taps of 3 channels copy 9 floats) in vector moves inline, a long one by
/// `memmove`, whose call costs more than the copy of a few floats.
@inline(__always) private func copyRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    guard count < 64 else { dst.update(from: src, count: count); return }
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self),
                                                    as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { dst[i] = src[i]; i += 1 }
}

/// Zeroes `count` floats, a short run inline (none: no call at all).
@inline(__always) private func zeroRun(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    guard count < 64 else { dst.update(repeating: 0, count: count); return }
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { dst[i] = 0; i += 1 }
}
