import CTorch

/// One component of a subscript, as in Python's `t[1, 2:5, None, ..., mask]`.
public enum TensorIndex: Sendable {
    /// A single position; the dimension is removed. Negative counts from the end.
    case at(Int)
    /// A strided range `start..<end` (nil = from the beginning / to the end).
    case range(start: Int?, end: Int?, step: Int)
    /// The whole dimension (`:`).
    case all
    /// A new size-1 dimension (`None`).
    case newAxis
    /// As many `.all` as needed to cover the remaining dimensions (`...`).
    case ellipsis
    /// Advanced indexing with an int64 index tensor or a boolean mask.
    case tensor(Tensor)
}

/// Something usable in a tensor subscript: Int, ranges, `TensorIndex`, or a `Tensor`.
public protocol TensorIndexExpression {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexExpression { public var tensorIndex: TensorIndex { self } }
extension Int: TensorIndexExpression { public var tensorIndex: TensorIndex { .at(self) } }
extension Range: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound + 1, step: 1) }
}
extension StrideTo: TensorIndexExpression where Element == Int {
    public var tensorIndex: TensorIndex {
        // StrideTo hides its bounds; recover them from its elements' first and stride.
        let elements = Array(self)
        guard let first = elements.first else { return .range(start: 0, end: 0, step: 1) }
        let step = elements.count > 1 ? elements[1] - first : 1
        return .range(start: first, end: elements.last! + 1, step: step)
    }
}
extension Tensor: TensorIndexExpression { public var tensorIndex: TensorIndex { .tensor(self) } }

extension Tensor {
    /// Python-style indexing: `t[0]`, `t[1..<3, TensorIndex.all, 2]`, `t[mask]`, `t[indexTensor]`.
    ///
    /// Integer and range components give views that share storage; tensor components
    /// (advanced indexing) give copies. Assignment writes through in place (broadcasting
    /// and converting the value as PyTorch does).
    public subscript(_ indices: any TensorIndexExpression...) -> Tensor {
        get { index(indices.map(\.tensorIndex)) }
        set { indexPut(indices.map(\.tensorIndex), newValue) }
    }

    /// Applies a list of index components (the subscript's implementation).
    public func index(_ components: [TensorIndex]) -> Tensor {
        let (view, advanced) = basicIndexing(components)
        guard advanced.contains(where: { $0 != nil }) else { return view }
        return withHandles(advanced) { h, n in checked("index", ct_index(view.handle, h, n)) }
    }

    /// Writes `value` into the elements that `components` select.
    public func indexPut(_ components: [TensorIndex], _ value: Tensor, accumulate: Bool = false) {
        let (view, advanced) = basicIndexing(components)
        let converted = value.to(device: view.device).to(dtype: view.dtype)
        if advanced.contains(where: { $0 != nil }) {
            let status = withHandles(advanced) { h, n in
                ct_index_put_(view.handle, h, n, converted.handle, accumulate ? 1 : 0)
            }
            check("indexPut", status)
        } else if accumulate {
            check("indexPut", ct_binary_(Int32(CT_ADD.rawValue), view.handle, converted.handle))
        } else {
            view.copy_(converted)
        }
    }

    /// Applies integer, range, new-axis and ellipsis components; returns the view and the
    /// per-dimension advanced indices that remain (nil = whole dimension).
    private func basicIndexing(_ components: [TensorIndex]) -> (Tensor, [Tensor?]) {
        var consumed = 0
        for c in components {
            switch c {
            case .at, .range, .all: consumed += 1
            case let .tensor(t): consumed += t.dtype == .bool ? t.rank : 1
            case .newAxis, .ellipsis: break
            }
        }
        var result = self
        var dim = 0
        var advanced: [Tensor?] = []
        for c in components {
            switch c {
            case let .at(i):
                result = result.select(dim: dim, index: i)
            case let .range(start, end, step):
                result = result.slice(dim: dim, start: start, end: end, step: step)
                advanced.append(nil)
                dim += 1
            case .all:
                advanced.append(nil)
                dim += 1
            case .newAxis:
                result = result.unsqueezed(dim)
                advanced.append(nil)
                dim += 1
            case .ellipsis:
                let skip = Swift.max(0, rank - consumed)
                advanced.append(contentsOf: [Tensor?](repeating: nil, count: skip))
                dim += skip
            case let .tensor(t):
                advanced.append(t)
                dim += t.dtype == .bool ? t.rank : 1
            }
        }
        while let last = advanced.last, last == nil { advanced.removeLast() }
        return (result, advanced)
    }
}
