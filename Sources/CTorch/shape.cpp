// Shape, indexing, joining and splitting.
#include "shim.h"

using namespace ctorch;

static int write_list(const std::vector<at::Tensor> &v, ct_tensor *out, int cap, int *count) {
  TORCH_CHECK((int)v.size() <= cap, "result has ", v.size(), " tensors, capacity ", cap);
  for (size_t i = 0; i < v.size(); i++) out[i] = wrap(v[i]);
  *count = (int)v.size();
  return 0;
}

static c10::List<std::optional<at::Tensor>> index_list(const ct_tensor *idx, int n) {
  c10::List<std::optional<at::Tensor>> l;
  l.reserve(n);
  for (int i = 0; i < n; i++) l.push_back(opt(idx[i]));
  return l;
}

extern "C" {
ct_tensor ct_reshape(ct_tensor t, const int64_t *s, int n) { CT_TENSOR(T(t).reshape(dims(s, n))) }
ct_tensor ct_view(ct_tensor t, const int64_t *s, int n) { CT_TENSOR(T(t).view(dims(s, n))) }
ct_tensor ct_permute(ct_tensor t, const int64_t *d, int n) { CT_TENSOR(T(t).permute(dims(d, n))) }
ct_tensor ct_transpose(ct_tensor t, int64_t a, int64_t b) { CT_TENSOR(T(t).transpose(a, b)) }
ct_tensor ct_squeeze(ct_tensor t) { CT_TENSOR(T(t).squeeze()) }
ct_tensor ct_squeeze_dim(ct_tensor t, int64_t d) { CT_TENSOR(T(t).squeeze(d)) }
ct_tensor ct_unsqueeze(ct_tensor t, int64_t d) { CT_TENSOR(T(t).unsqueeze(d)) }
ct_tensor ct_expand(ct_tensor t, const int64_t *s, int n) { CT_TENSOR(T(t).expand(dims(s, n))) }
ct_tensor ct_flatten(ct_tensor t, int64_t a, int64_t b) { CT_TENSOR(T(t).flatten(a, b)) }
ct_tensor ct_slice(ct_tensor t, int64_t d, int64_t a, int64_t b, int64_t step) {
  CT_TENSOR(T(t).slice(d, a, b, step))
}
ct_tensor ct_select(ct_tensor t, int64_t d, int64_t i) { CT_TENSOR(T(t).select(d, i)) }
ct_tensor ct_as_strided(ct_tensor t, const int64_t *size, const int64_t *stride, int n, int64_t off) {
  CT_TENSOR(T(t).as_strided(dims(size, n), dims(stride, n), off))
}
ct_tensor ct_narrow(ct_tensor t, int64_t d, int64_t a, int64_t len) { CT_TENSOR(T(t).narrow(d, a, len)) }
ct_tensor ct_index(ct_tensor t, const ct_tensor *idx, int n) { CT_TENSOR(at::index(T(t), index_list(idx, n))) }
int ct_index_put_(ct_tensor t, const ct_tensor *idx, int n, ct_tensor v, int acc) {
  CT_STATUS(T(t).index_put_(index_list(idx, n), T(v), acc != 0);)
}
ct_tensor ct_cat(const ct_tensor *ts, int n, int64_t d) { CT_TENSOR(at::cat(list(ts, n), d)) }
ct_tensor ct_stack(const ct_tensor *ts, int n, int64_t d) { CT_TENSOR(at::stack(list(ts, n), d)) }
int ct_split(ct_tensor t, int64_t size, int64_t d, ct_tensor *out, int cap, int *count) {
  CT_STATUS(write_list(T(t).split(size, d), out, cap, count);)
}
int ct_split_sizes(ct_tensor t, const int64_t *s, int n, int64_t d, ct_tensor *out, int cap, int *count) {
  CT_STATUS(write_list(T(t).split_with_sizes(dims(s, n), d), out, cap, count);)
}
int ct_chunk(ct_tensor t, int64_t chunks, int64_t d, ct_tensor *out, int cap, int *count) {
  CT_STATUS(write_list(T(t).chunk(chunks, d), out, cap, count);)
}
ct_tensor ct_index_select(ct_tensor t, int64_t d, ct_tensor i) { CT_TENSOR(T(t).index_select(d, T(i))) }
ct_tensor ct_gather(ct_tensor t, int64_t d, ct_tensor i) { CT_TENSOR(T(t).gather(d, T(i))) }
ct_tensor ct_scatter(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) { CT_TENSOR(T(t).scatter(d, T(i), T(s))) }
ct_tensor ct_scatter_value(ct_tensor t, int64_t d, ct_tensor i, double v) { CT_TENSOR(T(t).scatter(d, T(i), v)) }
ct_tensor ct_scatter_add(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) { CT_TENSOR(T(t).scatter_add(d, T(i), T(s))) }
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor m, double v) { CT_TENSOR(T(t).masked_fill(T(m), v)) }
ct_tensor ct_where(ct_tensor c, ct_tensor a, ct_tensor b) { CT_TENSOR(at::where(T(c), T(a), T(b))) }
ct_tensor ct_repeat(ct_tensor t, const int64_t *r, int n) { CT_TENSOR(T(t).repeat(dims(r, n))) }
ct_tensor ct_flip(ct_tensor t, const int64_t *d, int n) { CT_TENSOR(T(t).flip(dims(d, n))) }
ct_tensor ct_nonzero(ct_tensor t) { CT_TENSOR(T(t).nonzero()) }
ct_tensor ct_tril(ct_tensor t, int64_t k) { CT_TENSOR(T(t).tril(k)) }
ct_tensor ct_triu(ct_tensor t, int64_t k) { CT_TENSOR(T(t).triu(k)) }
ct_tensor ct_diag(ct_tensor t, int64_t k) { CT_TENSOR(T(t).diag(k)) }
ct_tensor ct_sort(ct_tensor t, int64_t d, int desc, ct_tensor *indices) {
  CT_GUARD(return nullptr;, auto r = T(t).sort(d, desc != 0); *indices = wrap(std::get<1>(r));
           return wrap(std::get<0>(r));)
}
ct_tensor ct_topk(ct_tensor t, int64_t k, int64_t d, int largest, ct_tensor *indices) {
  CT_GUARD(return nullptr;, auto r = T(t).topk(k, d, largest != 0); *indices = wrap(std::get<1>(r));
           return wrap(std::get<0>(r));)
}
}
