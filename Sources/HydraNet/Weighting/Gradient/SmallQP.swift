import Foundation

/// The small optimisation problems of the gradient aggregators, solved exactly (active-set
/// methods) or to machine precision (Newton, bisection) in float64 on `[[Double]]`. Sizes are
/// the number of tasks, so every solve takes microseconds; no external solver is involved.
enum SmallQP {
    /// Minimises ½xᵀQx + cᵀx subject to x ≥ `lower` and, when `total` is given, Σx = total,
    /// with a primal active-set method (exact in a finite number of steps for a positive
    /// definite Q). Q must be symmetric positive semi-definite; a ridge of 1e-13·max Qᵢᵢ is
    /// added to the equality-constrained sub-problems so that a singular Q (linearly dependent
    /// gradients) still gives one of the minimisers. Returns a feasible point in every case.
    /// `start`, when given and feasible, warm-starts the method (its bounds at their limits form
    /// the first active set), which makes a sequence of nearby problems cheap.
    static func boxQP(_ q: [[Double]], _ c: [Double], lower: [Double], total: Double? = nil, start: [Double]? = nil)
        -> [Double]
    {
        let n = c.count
        guard n > 0 else { return [] }
        var scale = 0.0
        for i in 0..<n { scale = max(scale, abs(q[i][i])) }
        let ridge = 1e-13 * scale
        var x: [Double]
        var active = [Bool](repeating: false, count: n)
        if let total {
            let slack = total - lower.reduce(0, +)
            precondition(slack >= 0, "boxQP: Σ lower exceeds the total")
            x = lower.map { $0 + slack / Double(n) }
            if slack == 0 { return x }
        } else {
            x = lower
            active = [Bool](repeating: true, count: n)
        }
        if let start, start.count == n, start.allFinite, zip(start, lower).allSatisfy({ $0 >= $1 }),
           total == nil || abs(start.reduce(0, +) - total!) <= 1e-12 * max(1, abs(total!))
        {
            x = start
            for i in 0..<n { active[i] = x[i] == lower[i] }
            if total != nil, active.allSatisfy({ $0 }) { active[0] = false }
        }
        let maxIterations = 50 * (n + 2)
        for _ in 0..<maxIterations {
            let free = (0..<n).filter { !active[$0] }
            var target = x
            var nu = 0.0
            if !free.isEmpty {
                let m = free.count + (total == nil ? 0 : 1)
                var k = SmallLinalg.zeros(m, m)
                var r = SmallLinalg.zeros(m)
                for (a, i) in free.enumerated() {
                    for (b, j) in free.enumerated() { k[a][b] = q[i][j] }
                    k[a][a] += ridge
                    var s = c[i]
                    for j in 0..<n where active[j] { s += q[i][j] * x[j] }
                    r[a] = -s
                    if total != nil { k[a][m - 1] = -1; k[m - 1][a] = 1 }
                }
                if let total {
                    var fixed = 0.0
                    for j in 0..<n where active[j] { fixed += x[j] }
                    r[m - 1] = total - fixed
                }
                guard let solution = SmallLinalg.solve(k, r) else { return x }
                for (a, i) in free.enumerated() { target[i] = solution[a] }
                if total != nil { nu = solution[m - 1] }
            }
            // Step towards the sub-problem's minimiser, stopping at the first bound hit.
            var step = 1.0, blocking = -1
            for i in free where target[i] < lower[i] {
                let d = x[i] - target[i]
                let s = d > 0 ? max(0, (x[i] - lower[i]) / d) : 0
                if s < step { step = s; blocking = i }
            }
            for i in free { x[i] += step * (target[i] - x[i]) }
            if blocking >= 0 {
                x[blocking] = lower[blocking]
                active[blocking] = true
                continue
            }
            // At the sub-problem's minimiser: release the bound with the most negative multiplier.
            var worst = 0.0, release = -1, gradScale = 0.0
            for i in 0..<n {
                var g = c[i], mag = abs(c[i])
                for j in 0..<n { g += q[i][j] * x[j]; mag += abs(q[i][j] * x[j]) }
                gradScale = max(gradScale, mag)
                if active[i], g - nu < worst { worst = g - nu; release = i }
            }
            if release < 0 || worst >= -1e-12 * gradScale { return x }
            active[release] = false
        }
        return x
    }

    /// argmin over the probability simplex of ½wᵀQw + cᵀw (exact, by ``boxQP``).
    static func simplexQP(_ q: [[Double]], _ c: [Double], start: [Double]? = nil) -> [Double] {
        boxQP(q, c, lower: SmallLinalg.zeros(c.count), total: 1, start: start)
    }

    /// MGDA's Frank–Wolfe solver of min_{w∈Δ} wᵀGw (Sener & Koltun 2018, Algorithm 2), as
    /// torchjd runs it: start at 1/T, stop when the step γ < `epsilon` or after `maxIterations`.
    static func frankWolfe(_ g: [[Double]], epsilon: Double, maxIterations: Int) -> [Double] {
        let n = g.count
        guard n > 0 else { return [] }
        var alpha = [Double](repeating: 1 / Double(n), count: n)
        for _ in 0..<maxIterations {
            let ga = SmallLinalg.matvec(g, alpha)
            var t = 0
            for i in 1..<max(n, 1) where ga[i] < ga[t] { t = i }   // first minimum, as torch.argmin
            let a = ga[t]                       // αᵀGeₜ
            let b = SmallLinalg.dot(alpha, ga)  // αᵀGα
            let c = g[t][t]                     // eₜᵀGeₜ
            let gamma: Double
            if c <= a { gamma = 1 } else if b <= a { gamma = 0 } else { gamma = (b - a) / (b + c - 2 * a) }
            for i in 0..<n { alpha[i] *= 1 - gamma }
            alpha[t] += gamma
            if gamma < epsilon { break }
        }
        return alpha
    }

    /// CAGrad's problem on a (trace-normalised) Gram matrix: w* = argmin_{w∈Δ} bᵀw + φ·√(wᵀGw)
    /// with b = G·1/T and φ = c·‖g₀‖ = c·√(1ᵀG1)/T. Returns (w*, ‖g_w*‖, φ).
    ///
    /// Solved exactly through its variational form √q = min_{t>0} q/(2t) + t/2: for fixed t
    /// the minimiser is the simplex QP w(κ) = argmin ½wᵀGw + κ·bᵀw with κ = t/φ, and the optimal
    /// t satisfies t = √q(w(κ)); ψ(κ) = φκ − √q(w(κ)) is non-decreasing, so κ* is found by
    /// bisection on [0, max√Gᵢᵢ/φ] to relative 1e-15.
    static func cagrad(_ g: [[Double]], c: Double) -> (w: [Double], gwNorm: Double, phi: Double) {
        let n = g.count
        let ones = [Double](repeating: 1 / Double(n), count: n)
        let b = SmallLinalg.matvec(g, ones)
        let phi = c * max(SmallLinalg.quadratic(g, ones), 0).squareRoot()
        var last: [Double]? = nil
        func w(_ kappa: Double) -> [Double] {
            let solution = simplexQP(g, b.map { $0 * kappa }, start: last)  // warm start from the previous κ
            last = solution
            return solution
        }
        func norm(_ w: [Double]) -> Double { max(SmallLinalg.quadratic(g, w), 0).squareRoot() }
        guard phi > 0, phi.isFinite else {
            let w0 = simplexQP(SmallLinalg.zeros(n, n), b)
            return (w0, norm(w0), 0)
        }
        let tMax = SmallLinalg.diagonal(g).map { max($0, 0).squareRoot() }.max() ?? 0
        var lo = 0.0, hi = tMax / phi
        for _ in 0..<200 {
            if hi - lo <= 1e-15 * (tMax / phi) { break }
            let mid = 0.5 * (lo + hi)
            if phi * mid - norm(w(mid)) < 0 { lo = mid } else { hi = mid }
        }
        let wStar = w(0.5 * (lo + hi))
        return (wStar, norm(wStar), phi)
    }

    /// Minimises F(x) = ½xᵀQx + Σ h(xᵢ) over x > 0, where h′(x) = −x^(−p) (p = 1: h = −log x),
    /// i.e. solves Qx = x^(−p), the fixed point of Nash-MTL (p = 1) and FairGrad (p = 1/α). Q
    /// must be positive definite (callers add a ridge). Damped Newton with a fraction-to-the-
    /// boundary rule and Armijo backtracking; stops when maxᵢ |xᵢᵖ(Qx)ᵢ − 1| ≤ 1e-12.
    static func powerFixedPoint(_ q: [[Double]], p: Double, start: [Double]? = nil, maxIterations: Int = 200)
        -> (x: [Double], converged: Bool)
    {
        let n = q.count
        guard n > 0 else { return ([], true) }
        func h(_ x: Double) -> Double { p == 1 ? -Foundation.log(x) : -Foundation.pow(x, 1 - p) / (1 - p) }
        func objective(_ x: [Double]) -> Double {
            0.5 * SmallLinalg.quadratic(q, x) + x.reduce(0) { $0 + h($1) }
        }
        var x = start ?? (0..<n).map { Foundation.pow(max(q[$0][$0], 1e-300), -1 / (1 + p)) }
        if !x.allFinite || x.contains(where: { $0 <= 0 }) {
            x = (0..<n).map { Foundation.pow(max(q[$0][$0], 1e-300), -1 / (1 + p)) }
        }
        var f = objective(x)
        for _ in 0..<maxIterations {
            let qx = SmallLinalg.matvec(q, x)
            let residual = (0..<n).map { Foundation.pow(x[$0], p) * qx[$0] - 1 }
            if residual.map(abs).max()! <= 1e-12 { return (x, true) }
            let grad = (0..<n).map { qx[$0] - Foundation.pow(x[$0], -p) }
            var hess = q
            for i in 0..<n { hess[i][i] += p * Foundation.pow(x[i], -p - 1) }
            guard let newton = SmallLinalg.solve(hess, grad.map { -$0 }) else { return (x, false) }
            var step = 1.0
            for i in 0..<n where newton[i] < 0 { step = min(step, -0.99 * x[i] / newton[i]) }
            let slope = SmallLinalg.dot(grad, newton)
            if slope >= 0 { return (x, residual.map(abs).max()! <= 1e-8) }
            var accepted = false
            for _ in 0..<60 {
                let candidate = (0..<n).map { x[$0] + step * newton[$0] }
                let fc = objective(candidate)
                if fc.isFinite, fc <= f + 1e-4 * step * slope {
                    x = candidate
                    f = fc
                    accepted = true
                    break
                }
                step *= 0.5
            }
            if !accepted {
                // No decrease is measurable any more: we are at the minimiser up to rounding.
                let qx = SmallLinalg.matvec(q, x)
                let r = (0..<n).map { abs(Foundation.pow(x[$0], p) * qx[$0] - 1) }.max()!
                return (x, r <= 1e-8)
            }
        }
        let qx = SmallLinalg.matvec(q, x)
        let r = (0..<n).map { abs(Foundation.pow(x[$0], p) * qx[$0] - 1) }.max()!
        return (x, r <= 1e-8)
    }

    /// PCD's quadratic program (torchjd's `_solve_qp`, the dual active-set method of Goldfarb
    /// and Idnani 1983 for an identity Hessian, on the Gram matrix only):
    /// min_d ½‖d − g₁‖² s.t. gⱼᵀd ≥ τⱼ‖gⱼ‖² (j ≥ 2). Returns w = [1, μ₂, …, μₘ] with d = Σwᵢgᵢ, or
    /// [1, 0, …, 0] when the constraints are infeasible.
    static func priorityConstrained(_ g: [[Double]], taus: [Double], tol: Double = 1e-9, dependenceTol: Double = 1e-9)
        -> [Double]
    {
        let m = g.count
        var weights = SmallLinalg.zeros(m)
        guard m > 0 else { return weights }
        weights[0] = 1
        if m == 1 { return weights }
        let maxIterations = 10 * m
        let s = m - 1
        let gs = (1..<m).map { i in (1..<m).map { j in g[i][j] } }
        let b = (0..<s).map { taus[$0] * gs[$0][$0] - g[$0 + 1][0] }
        var mu = SmallLinalg.zeros(s)
        let atol = tol * max(SmallLinalg.diagonal(g).max()!, Double.leastNormalMagnitude)
        var active: [Int] = []
        var iterations = 0
        while iterations < maxIterations {
            var slacks = (0..<s).map { SmallLinalg.dot(gs[$0], mu) - b[$0] }
            for j in active { slacks[j] = 0 }
            var p = 0
            for j in 1..<s where slacks[j] < slacks[p] { p = j }
            if slacks[p] >= -atol { break }
            var slackP = slacks[p]
            while iterations < maxIterations {
                iterations += 1
                var r: [Double] = []
                var zSqNorm: Double
                var k = -1
                var partialStep = Double.infinity
                if !active.isEmpty {
                    let sub = active.map { i in active.map { j in gs[i][j] } }
                    r = SmallLinalg.solve(sub, active.map { gs[$0][p] }) ?? [Double](repeating: 0, count: active.count)
                    zSqNorm = gs[p][p] - SmallLinalg.dot(active.map { gs[p][$0] }, r)
                    for (idx, j) in active.enumerated() where r[idx] > 0 {
                        let ratio = mu[j] / r[idx]
                        if ratio < partialStep { partialStep = ratio; k = idx }
                    }
                } else {
                    zSqNorm = gs[p][p]
                }
                let zNonZero = zSqNorm > dependenceTol * gs[p][p]
                let fullStep = zNonZero ? -slackP / zSqNorm : Double.infinity
                let step = min(partialStep, fullStep)
                if step == .infinity { return weights }  // infeasible constraints
                for (idx, j) in active.enumerated() { mu[j] -= step * r[idx] }
                mu[p] += step
                if fullStep <= partialStep {
                    active.append(p)
                    break
                }
                mu[active[k]] = 0
                active.remove(at: k)
                slackP = SmallLinalg.dot(gs[p], mu) - b[p]
            }
        }
        for j in 0..<s { weights[j + 1] = max(mu[j], 0) }
        return weights
    }
}
