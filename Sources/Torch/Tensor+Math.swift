import CTorch

@inline(__always) private func op(_ o: ct_binary_op) -> Int32 { Int32(o.rawValue) }
@inline(__always) private func op(_ o: ct_unary_op) -> Int32 { Int32(o.rawValue) }

extension Tensor {
    func binary(_ name: StaticString, _ o: ct_binary_op, _ other: Tensor) -> Tensor {
        checked(name, ct_binary(op(o), handle, other.handle))
    }
    func binary(_ name: StaticString, _ o: ct_binary_op, _ scalar: Double, reversed: Bool = false) -> Tensor {
        checked(name, ct_binary_scalar(op(o), handle, scalar, reversed ? 1 : 0))
    }
    func binary(_ name: StaticString, _ o: ct_binary_op, _ scalar: Int, reversed: Bool = false) -> Tensor {
        checked(name, ct_binary_scalar_int(op(o), handle, Int64(scalar), reversed ? 1 : 0))
    }
    func unary(_ name: StaticString, _ o: ct_unary_op) -> Tensor {
        checked(name, ct_unary(op(o), handle))
    }

    // MARK: Arithmetic operators (broadcasting, type promotion as in PyTorch)

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary("+", CT_ADD, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary("-", CT_SUB, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary("*", CT_MUL, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary("/", CT_DIV, b) }
    public static prefix func - (a: Tensor) -> Tensor { a.unary("neg", CT_NEG) }

    public static func + (a: Tensor, s: Double) -> Tensor { a.binary("+", CT_ADD, s) }
    public static func - (a: Tensor, s: Double) -> Tensor { a.binary("-", CT_SUB, s) }
    public static func * (a: Tensor, s: Double) -> Tensor { a.binary("*", CT_MUL, s) }
    public static func / (a: Tensor, s: Double) -> Tensor { a.binary("/", CT_DIV, s) }
    public static func + (s: Double, a: Tensor) -> Tensor { a.binary("+", CT_ADD, s, reversed: true) }
    public static func - (s: Double, a: Tensor) -> Tensor { a.binary("-", CT_SUB, s, reversed: true) }
    public static func * (s: Double, a: Tensor) -> Tensor { a.binary("*", CT_MUL, s, reversed: true) }
    public static func / (s: Double, a: Tensor) -> Tensor { a.binary("/", CT_DIV, s, reversed: true) }

    // Integer scalars keep integer tensors integer (Python's `t * 2`); Double scalars
    // promote them to floating point (Python's `t * 2.0`).
    public static func + (a: Tensor, s: Int) -> Tensor { a.binary("+", CT_ADD, s) }
    public static func - (a: Tensor, s: Int) -> Tensor { a.binary("-", CT_SUB, s) }
    public static func * (a: Tensor, s: Int) -> Tensor { a.binary("*", CT_MUL, s) }
    public static func / (a: Tensor, s: Int) -> Tensor { a.binary("/", CT_DIV, s) }
    public static func + (s: Int, a: Tensor) -> Tensor { a.binary("+", CT_ADD, s, reversed: true) }
    public static func - (s: Int, a: Tensor) -> Tensor { a.binary("-", CT_SUB, s, reversed: true) }
    public static func * (s: Int, a: Tensor) -> Tensor { a.binary("*", CT_MUL, s, reversed: true) }
    public static func / (s: Int, a: Tensor) -> Tensor { a.binary("/", CT_DIV, s, reversed: true) }
    /// Float scalars behave like Double scalars.
    public static func + (a: Tensor, s: Float) -> Tensor { a + Double(s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Double(s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Double(s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Double(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Double(s) + a }
    public static func - (s: Float, a: Tensor) -> Tensor { Double(s) - a }
    public static func * (s: Float, a: Tensor) -> Tensor { Double(s) * a }
    public static func / (s: Float, a: Tensor) -> Tensor { Double(s) / a }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    public static func += (a: inout Tensor, s: Double) { a = a + s }
    public static func -= (a: inout Tensor, s: Double) { a = a - s }
    public static func *= (a: inout Tensor, s: Double) { a = a * s }
    public static func /= (a: inout Tensor, s: Double) { a = a / s }

    /// Elementwise power (`torch.pow`).
    public func pow(_ exponent: Tensor) -> Tensor { binary("pow", CT_POW, exponent) }
    /// Elementwise power (`torch.pow`).
    public func pow(_ exponent: Double) -> Tensor { binary("pow", CT_POW, exponent) }
    /// Elementwise integer power; an integer tensor stays integer.
    public func pow(_ exponent: Int) -> Tensor { binary("pow", CT_POW, exponent) }
    /// Elementwise maximum of two tensors (`torch.maximum`).
    public func maximum(_ other: Tensor) -> Tensor { binary("maximum", CT_MAXIMUM, other) }
    /// Elementwise minimum of two tensors (`torch.minimum`).
    public func minimum(_ other: Tensor) -> Tensor { binary("minimum", CT_MINIMUM, other) }
    /// Python-style remainder (sign of the divisor) (`torch.remainder`).
    public func remainder(_ other: Tensor) -> Tensor { binary("remainder", CT_REMAINDER, other) }
    /// Python-style remainder (`torch.remainder`).
    public func remainder(_ s: Double) -> Tensor { binary("remainder", CT_REMAINDER, s) }
    /// Floor division (`torch.floor_divide`).
    public func floorDivide(_ other: Tensor) -> Tensor { binary("floorDivide", CT_FLOOR_DIVIDE, other) }
    /// `atan2(self, other)` elementwise.
    public func atan2(_ other: Tensor) -> Tensor { binary("atan2", CT_ATAN2, other) }

    // MARK: Unary functions

    public func exp() -> Tensor { unary("exp", CT_EXP) }
    public func log() -> Tensor { unary("log", CT_LOG) }
    public func log2() -> Tensor { unary("log2", CT_LOG2) }
    public func log1p() -> Tensor { unary("log1p", CT_LOG1P) }
    public func expm1() -> Tensor { unary("expm1", CT_EXPM1) }
    public func sqrt() -> Tensor { unary("sqrt", CT_SQRT) }
    public func rsqrt() -> Tensor { unary("rsqrt", CT_RSQRT) }
    public func abs() -> Tensor { unary("abs", CT_ABS) }
    public func sign() -> Tensor { unary("sign", CT_SIGN) }
    public func reciprocal() -> Tensor { unary("reciprocal", CT_RECIPROCAL) }
    public func square() -> Tensor { unary("square", CT_SQUARE) }
    public func sin() -> Tensor { unary("sin", CT_SIN) }
    public func cos() -> Tensor { unary("cos", CT_COS) }
    public func tan() -> Tensor { unary("tan", CT_TAN) }
    public func erf() -> Tensor { unary("erf", CT_ERF) }
    public func erfinv() -> Tensor { unary("erfinv", CT_ERFINV) }
    public func floor() -> Tensor { unary("floor", CT_FLOOR) }
    public func ceil() -> Tensor { unary("ceil", CT_CEIL) }
    public func rounded() -> Tensor { unary("rounded", CT_ROUND) }
    public func trunc() -> Tensor { unary("trunc", CT_TRUNC) }
    public func relu() -> Tensor { unary("relu", CT_RELU) }
    /// `max(self, 0)` in place (`Tensor.relu_`). Differentiable like PyTorch's in-place ops:
    /// autograd records it, and refuses a backward through a tensor it overwrote that a
    /// gradient still needs.
    @discardableResult public func relu_() -> Tensor { check("relu_", ct_relu_(handle)); return self }
    public func sigmoid() -> Tensor { unary("sigmoid", CT_SIGMOID) }
    public func tanh() -> Tensor { unary("tanh", CT_TANH) }
    public func silu() -> Tensor { unary("silu", CT_SILU) }
    public func logSigmoid() -> Tensor { unary("logSigmoid", CT_LOGSIGMOID) }
    public func softplus() -> Tensor { unary("softplus", CT_SOFTPLUS) }
    /// True where the element is neither infinite nor NaN.
    public func isFinite() -> Tensor { unary("isFinite", CT_ISFINITE) }
    public func isNaN() -> Tensor { unary("isNaN", CT_ISNAN) }
    public func isInf() -> Tensor { unary("isInf", CT_ISINF) }
    public func logicalNot() -> Tensor { unary("logicalNot", CT_LOGICAL_NOT) }

    /// Elements limited to `[min, max]` (either bound optional) (`torch.clamp`).
    public func clamped(min: Double? = nil, max: Double? = nil) -> Tensor {
        checked("clamped", ct_clamp(handle, min ?? 0, max ?? 0, min == nil ? 0 : 1, max == nil ? 0 : 1))
    }
    /// Elements limited by tensor bounds, broadcast (`torch.clamp`).
    public func clamped(min: Tensor?, max: Tensor?) -> Tensor {
        checked("clamped", ct_clamp_tensor(handle, min?.handle, max?.handle))
    }

    // MARK: Comparisons and logic (results are bool tensors)

    public func eq(_ o: Tensor) -> Tensor { binary("eq", CT_EQ, o) }
    public func ne(_ o: Tensor) -> Tensor { binary("ne", CT_NE, o) }
    public func lt(_ o: Tensor) -> Tensor { binary("lt", CT_LT, o) }
    public func le(_ o: Tensor) -> Tensor { binary("le", CT_LE, o) }
    public func gt(_ o: Tensor) -> Tensor { binary("gt", CT_GT, o) }
    public func ge(_ o: Tensor) -> Tensor { binary("ge", CT_GE, o) }
    public func eq(_ s: Double) -> Tensor { binary("eq", CT_EQ, s) }
    public func ne(_ s: Double) -> Tensor { binary("ne", CT_NE, s) }
    public func lt(_ s: Double) -> Tensor { binary("lt", CT_LT, s) }
    public func le(_ s: Double) -> Tensor { binary("le", CT_LE, s) }
    public func gt(_ s: Double) -> Tensor { binary("gt", CT_GT, s) }
    public func ge(_ s: Double) -> Tensor { binary("ge", CT_GE, s) }
    public func logicalAnd(_ o: Tensor) -> Tensor { binary("logicalAnd", CT_LOGICAL_AND, o) }
    public func logicalOr(_ o: Tensor) -> Tensor { binary("logicalOr", CT_LOGICAL_OR, o) }
    public func logicalXor(_ o: Tensor) -> Tensor { binary("logicalXor", CT_LOGICAL_XOR, o) }

    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.eq(b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.ne(b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.lt(b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.le(b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.gt(b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.ge(b) }
    public static func .== (a: Tensor, s: Double) -> Tensor { a.eq(s) }
    public static func .!= (a: Tensor, s: Double) -> Tensor { a.ne(s) }
    public static func .< (a: Tensor, s: Double) -> Tensor { a.lt(s) }
    public static func .<= (a: Tensor, s: Double) -> Tensor { a.le(s) }
    public static func .> (a: Tensor, s: Double) -> Tensor { a.gt(s) }
    public static func .>= (a: Tensor, s: Double) -> Tensor { a.ge(s) }
    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.logicalAnd(b) }
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.logicalOr(b) }
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.logicalXor(b) }
    public static prefix func .! (a: Tensor) -> Tensor { a.logicalNot() }

    // MARK: In-place updates (for optimizers; not differentiable through)

    /// `self += other` in place.
    @discardableResult public func add_(_ other: Tensor, alpha: Double = 1) -> Tensor {
        check("add_", ct_add_scaled_(handle, other.handle, alpha)); return self
    }
    /// `self += s` in place.
    @discardableResult public func add_(_ s: Double) -> Tensor {
        check("add_", ct_binary_scalar_(op(CT_ADD), handle, s)); return self
    }
    /// `self -= other` in place.
    @discardableResult public func sub_(_ other: Tensor) -> Tensor {
        check("sub_", ct_binary_(op(CT_SUB), handle, other.handle)); return self
    }
    /// `self *= other` in place.
    @discardableResult public func mul_(_ other: Tensor) -> Tensor {
        check("mul_", ct_binary_(op(CT_MUL), handle, other.handle)); return self
    }
    /// `self *= s` in place.
    @discardableResult public func mul_(_ s: Double) -> Tensor {
        check("mul_", ct_binary_scalar_(op(CT_MUL), handle, s)); return self
    }
    /// `self /= other` in place.
    @discardableResult public func div_(_ other: Tensor) -> Tensor {
        check("div_", ct_binary_(op(CT_DIV), handle, other.handle)); return self
    }
    /// `self /= s` in place.
    @discardableResult public func div_(_ s: Double) -> Tensor {
        check("div_", ct_binary_scalar_(op(CT_DIV), handle, s)); return self
    }
    /// `self = max(self, other)` in place.
    @discardableResult public func maximum_(_ other: Tensor) -> Tensor {
        check("maximum_", ct_binary_(op(CT_MAXIMUM), handle, other.handle)); return self
    }
    /// `self += value · a · b` in place.
    @discardableResult public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        check("addcmul_", ct_addcmul_(handle, a.handle, b.handle, value)); return self
    }
    /// `self += value · a / b` in place.
    @discardableResult public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        check("addcdiv_", ct_addcdiv_(handle, a.handle, b.handle, value)); return self
    }
    /// `self += weight · (end − self)` in place.
    @discardableResult public func lerp_(_ end: Tensor, weight: Double) -> Tensor {
        check("lerp_", ct_lerp_(handle, end.handle, weight)); return self
    }
    /// Clamps in place.
    @discardableResult public func clamp_(min: Double? = nil, max: Double? = nil) -> Tensor {
        check("clamp_", ct_clamp_(handle, min ?? 0, max ?? 0, min == nil ? 0 : 1, max == nil ? 0 : 1)); return self
    }
}

infix operator .&: LogicalConjunctionPrecedence
infix operator .|: LogicalDisjunctionPrecedence
infix operator .^: LogicalDisjunctionPrecedence
