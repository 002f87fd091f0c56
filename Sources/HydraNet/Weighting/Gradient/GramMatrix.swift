import Foundation
import Torch

/// Dense linear algebra on small T×T float64 matrices (`[[Double]]`), for the aggregators'
/// solves. T is the number of tasks, so everything here is O(T³) at most and runs in
/// microseconds.
enum SmallLinalg {
    static func zeros(_ n: Int) -> [Double] { [Double](repeating: 0, count: n) }
    static func zeros(_ n: Int, _ m: Int) -> [[Double]] { [[Double]](repeating: zeros(m), count: n) }

    static func identity(_ n: Int) -> [[Double]] {
        var a = zeros(n, n)
        for i in 0..<n { a[i][i] = 1 }
        return a
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// A·x.
    static func matvec(_ a: [[Double]], _ x: [Double]) -> [Double] { a.map { dot($0, x) } }

    /// xᵀ·A·x.
    static func quadratic(_ a: [[Double]], _ x: [Double]) -> Double { dot(x, matvec(a, x)) }

    static func trace(_ a: [[Double]]) -> Double { a.indices.reduce(0) { $0 + a[$1][$1] } }

    static func diagonal(_ a: [[Double]]) -> [Double] { a.indices.map { a[$0][$0] } }

    /// The Frobenius norm.
    static func frobenius(_ a: [[Double]]) -> Double { a.reduce(0) { $0 + dot($1, $1) }.squareRoot() }

    /// Solves A·x = b by Gaussian elimination with partial pivoting; nil if A is singular
    /// (a pivot is exactly zero or not finite).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a, r = b
        for col in 0..<n {
            var pivot = col
            for row in col + 1..<max(n, col + 1) where abs(m[row][col]) > abs(m[pivot][col]) { pivot = row }
            let p = m[pivot][col]
            guard p != 0, p.isFinite else { return nil }
            if pivot != col { m.swapAt(pivot, col); r.swapAt(pivot, col) }
            for row in col + 1..<max(n, col + 1) {
                let f = m[row][col] / p
                if f == 0 { continue }
                for k in col..<n { m[row][k] -= f * m[col][k] }
                r[row] -= f * r[col]
            }
        }
        var x = zeros(n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = r[i]
            for k in i + 1..<max(n, i + 1) { s -= m[i][k] * x[k] }
            x[i] = s / m[i][i]
        }
        return x.allFinite ? x : nil
    }

    /// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (accurate to a
    /// few ulps of the largest eigenvalue). Returns the eigenvalues in ascending order and
    /// the matching eigenvectors as the columns of `vectors` (`vectors[i][k]` is component i
    /// of eigenvector k).
    static func symmetricEigen(_ matrix: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        let n = matrix.count
        var a = matrix
        var v = identity(n)
        if n == 0 { return ([], []) }
        for i in 0..<n { for j in 0..<i { let s = 0.5 * (a[i][j] + a[j][i]); a[i][j] = s; a[j][i] = s } }
        for _ in 0..<100 {
            var off = 0.0, total = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    total += a[i][j] * a[i][j]
                    if i != j { off += a[i][j] * a[i][j] }
                }
            }
            if off == 0 || off <= 1e-32 * total { break }
            for p in 0..<n - 1 {
                for q in p + 1..<n {
                    let apq = a[p][q]
                    if apq == 0 { continue }
                    let theta = (a[q][q] - a[p][p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    a[p][q] = 0
                    a[q][p] = 0
                    for k in 0..<n {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0][$0] < a[$1][$1] }
        let values = order.map { a[$0][$0] }
        let vectors = (0..<n).map { i in order.map { v[i][$0] } }
        return (values, vectors)
    }

    /// The Moore–Penrose pseudo-inverse of a symmetric matrix, from its eigen-decomposition:
    /// eigenvalues with |λ| ≤ rtol·max|λ| count as zero. `rtol` defaults to n·ε (float64), the
    /// default of `torch.linalg.pinv` for an n×n matrix.
    static func symmetricPinv(_ a: [[Double]], rtol: Double? = nil) -> [[Double]] {
        let n = a.count
        let (values, vectors) = symmetricEigen(a)
        let largest = values.map(abs).max() ?? 0
        let tol = (rtol ?? Double(n) * Double.ulpOfOne) * largest
        var p = zeros(n, n)
        for k in 0..<n where abs(values[k]) > tol && largest > 0 {
            let inv = 1 / values[k]
            for i in 0..<n { for j in 0..<n { p[i][j] += inv * vectors[i][k] * vectors[j][k] } }
        }
        return p
    }

    /// G scaled by 1/tr(G), or all zeros when tr(G) ≤ `epsilon` (torchjd's `normalize`,
    /// the Gram matrix of J/‖J‖_F).
    static func traceNormalized(_ g: [[Double]], epsilon: Double) -> [[Double]] {
        let tr = trace(g)
        guard tr > epsilon, tr.isFinite, tr > 0 else { return zeros(g.count, g.count) }
        return g.map { $0.map { $0 / tr } }
    }
}

/// The geometry of the task gradients, read from their Gram matrix G = J·Jᵀ: norms, pairwise
/// cosines and the condition number of G. For logs and run reports; any aggregator's caller
/// can build it from the same Jacobian.
public struct GradientGeometry: Sendable, Equatable {
    /// The Gram matrix (T×T, float64).
    public let gram: [[Double]]
    /// ‖gᵢ‖ for each row.
    public let norms: [Double]
    /// cos(gᵢ, gⱼ) (T×T, 1 on the diagonal); 0 where either gradient is zero.
    public let cosines: [[Double]]
    /// The eigenvalues of G in ascending order (clamped at 0 from below).
    public let eigenvalues: [Double]
    /// λ_max(G)/λ_min(G): 1 for orthogonal gradients of equal norm, +∞ when G is singular
    /// (linearly dependent or zero gradients), NaN for T = 0 or an all-zero G.
    public let conditionNumber: Double

    /// From a Gram matrix.
    public init(gram: [[Double]]) {
        self.gram = gram
        let t = gram.count
        norms = (0..<t).map { max(gram[$0][$0], 0).squareRoot() }
        var cos = SmallLinalg.zeros(t, t)
        for i in 0..<t {
            for j in 0..<t {
                if i == j { cos[i][j] = norms[i] > 0 ? 1 : 0; continue }
                let d = norms[i] * norms[j]
                cos[i][j] = d > 0 ? min(1, max(-1, gram[i][j] / d)) : 0
            }
        }
        cosines = cos
        eigenvalues = SmallLinalg.symmetricEigen(gram).values.map { max($0, 0) }
        let largest = eigenvalues.last ?? 0, smallest = eigenvalues.first ?? 0
        if largest <= 0 || !largest.isFinite {
            conditionNumber = .nan
        } else if smallest <= largest * Double(t) * Double.ulpOfOne {
            conditionNumber = .infinity
        } else {
            conditionNumber = largest / smallest
        }
    }

    /// From a T×P Jacobian (G computed with one float64 matmul).
    public init(jacobian: Tensor) {
        self.init(gram: AggregatorInput(jacobian, AggregationContext(taskIndices: [], losses: []), method: "GradientGeometry").gram())
    }

    /// The off-diagonal cosines, row-major (i < j), e.g. for a JSON log line.
    public var pairwiseCosines: [Double] {
        var out: [Double] = []
        for i in 0..<cosines.count { for j in i + 1..<max(cosines.count, i + 1) { out.append(cosines[i][j]) } }
        return out
    }
}
