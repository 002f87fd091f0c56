import Foundation
import Torch

/// A storage a pickle names through a persistent id `('storage', torch.<Type>Storage, key,
/// location, numel)`: its record `data/<key>` is read only once the whole file is validated.
final class PthStorage {
    let key: String
    let dtype: DType
    /// Elements.
    let count: Int
    let byteCount: Int

    init(key: String, dtype: DType, count: Int) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard count >= 0, !overflow else {
            throw PthFormatError("storage '\(key)' of \(count) \(dtype) elements is too large")
        }
        self.key = key
        self.dtype = dtype
        self.count = count
        self.byteCount = bytes
    }
}

/// A tensor `_rebuild_tensor_v2(storage, offset, size, stride, …)` describes: a strided view
/// of a storage, checked to lie inside it with overflow-checked arithmetic when the pickle
/// is read, and built (as a copy with its own memory) only after the whole file passed.
final class PthTensor {
    let storage: PthStorage
    let offset: Int
    let size: [Int]
    let stride: [Int]
    /// Bytes of the built tensor.
    let byteCount: Int

    init(storage: PthStorage, offset: Int, size: [Int], stride: [Int], maxRank: Int) throws {
        let layout = "size \(size), stride \(stride), offset \(offset)"
        guard size.count == stride.count else {
            throw PthFormatError("tensor with \(layout): size and stride differ in length")
        }
        guard size.count <= maxRank else {
            throw PthFormatError("tensor with \(size.count) dimensions (at most \(maxRank) allowed)")
        }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw PthFormatError("tensor with \(layout): negative sizes, strides or offsets are not allowed")
        }
        guard let bytes = TensorLayout.byteCount(size, dtype: storage.dtype) else {
            throw PthFormatError("tensor with \(layout): its element count overflows")
        }
        guard let extent = TensorLayout.storageExtent(size: size, stride: stride, offset: offset) else {
            throw PthFormatError("tensor with \(layout): its extent in the storage overflows")
        }
        guard extent <= storage.count else {
            throw PthFormatError("tensor with \(layout) reaches element \(extent - 1) of storage '\(storage.key)', "
                + "which has \(storage.count) elements")
        }
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride
        self.byteCount = bytes
    }

    /// Whether the elements are the row-major run starting at `offset`.
    var isContiguous: Bool {
        var expected = 1
        for (s, st) in zip(size, stride).reversed() where s != 1 {
            if st != expected { return false }
            expected &*= s
        }
        return true
    }

    /// Builds the tensor from its storage's bytes; `storageTensor` makes (once) the storage
    /// as a flat tensor for strided views.
    func build(storageBytes: Data, storageTensor: () throws -> Tensor) throws -> Tensor {
        if byteCount == 0 { return try Tensor.tryZeros(size, dtype: storage.dtype) }
        if isContiguous {
            let start = storageBytes.startIndex + offset * storage.dtype.itemSize
            return try storageBytes[start..<start + byteCount].withUnsafeBytes {
                try Tensor(bytes: $0, shape: size, dtype: storage.dtype)
            }
        }
        return try storageTensor().tryAsStrided(size: size, stride: stride, storageOffset: offset).tryClone()
    }
}
