import Testing
import Torch

/// The largest |a − b| over all elements (as float64), or +inf if shapes differ.
public func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.shape == b.shape else { return .infinity }
    if a.count == 0 { return 0 }
    return (a.to(dtype: .float64) - b.to(dtype: .float64)).abs().max().item()
}

/// Expects two tensors to have the same shape and dtype and all elements within
/// `atol + rtol·|expected|` (NaNs must match), reporting the worst element otherwise.
public func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs expected \(expected.shape)",
            sourceLocation: sourceLocation)
    #expect(actual.dtype == expected.dtype, "\(what): dtype \(actual.dtype) vs expected \(expected.dtype)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let a = actual.dtype == .bool ? actual.to(dtype: .uint8) : actual
    let e = expected.dtype == .bool ? expected.to(dtype: .uint8) : expected
    let ok = a.to(dtype: .float64).allClose(e.to(dtype: .float64), rtol: rtol, atol: atol, equalNaN: true)
    #expect(ok, "\(what): max |diff| = \(maxAbsDiff(a, e)) (rtol \(rtol), atol \(atol))",
            sourceLocation: sourceLocation)
}
