/*
 * ctorch.h — HydraNet's C ABI over libtorch (ATen + autograd).
 *
 * Conventions (see DESIGN.md):
 *  - Every function catches all C++ exceptions. On failure it stores the message in a
 *    thread-local slot (read it with ct_last_error) and returns NULL (tensor results) or a
 *    non-zero status (int results).
 *  - Tensor arguments are borrowed. Every returned ct_tensor is owned by the caller and is
 *    released with ct_free, the one free function.
 *  - Optional tensor arguments are NULL when absent.
 *  - dtype codes are at::ScalarType values; device types are c10::DeviceType values.
 *  - No model logic lives here: these are one-line wrappers over ATen.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An owned reference to one at::Tensor. */
typedef struct ct_tensor_s *ct_tensor;

/* ---- errors, memory, runtime -------------------------------------------------------- */
/** The message of the last failure on this thread ("" if none). Valid until the next call. */
const char *ct_last_error(void);
/** Releases a tensor handle (NULL is ignored). */
void ct_free(ct_tensor t);
/** Tensor handles returned and not yet freed, process-wide (for leak checks). */
int64_t ct_live_tensor_handles(void);
/** A new handle to the same tensor (shares storage and autograd identity). */
ct_tensor ct_shallow_copy(ct_tensor t);
const char *ct_torch_version(void);
void ct_manual_seed(uint64_t seed);
/** The CPU generator's state (a uint8 tensor, as torch.get_rng_state()). */
ct_tensor ct_get_rng_state(void);
/** Restores a state from ct_get_rng_state (torch.set_rng_state). */
int ct_set_rng_state(ct_tensor state);
int ct_get_num_threads(void);
void ct_set_num_threads(int n);
int ct_get_num_interop_threads(void);
int ct_set_num_interop_threads(int n);
/** Loads libtorch_cuda if present (returns 1 if CUDA is usable afterwards). */
int ct_cuda_init(void);
int ct_cuda_is_available(void);
int ct_cuda_device_count(void);
void ct_cuda_manual_seed_all(uint64_t seed);
int ct_cuda_synchronize(int device_index);

/* ---- metadata ---------------------------------------------------------------------- */
int64_t ct_dim(ct_tensor t);
/** Writes dim(t) sizes into out. */
void ct_sizes(ct_tensor t, int64_t *out);
void ct_strides(ct_tensor t, int64_t *out);
int64_t ct_numel(ct_tensor t);
int64_t ct_storage_offset(ct_tensor t);
int ct_dtype(ct_tensor t);
int ct_device_type(ct_tensor t);
int ct_device_index(ct_tensor t);
int ct_is_contiguous(ct_tensor t);
int64_t ct_element_size(ct_tensor t);
/** Copies the tensor's elements, in row-major order, into dst (nbytes must equal numel*itemsize). */
int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes);
/** A new CPU tensor whose elements are copied from data (row-major, nbytes = numel*itemsize). */
ct_tensor ct_from_buffer(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype);
int ct_item_double(ct_tensor t, double *out);
int ct_item_int64(ct_tensor t, int64_t *out);
int ct_equal(ct_tensor a, ct_tensor b, int *out);
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int equal_nan, int *out);

/* ---- creation ---------------------------------------------------------------------- */
ct_tensor ct_empty(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_zeros(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_ones(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_full(const int64_t *shape, int ndim, double value, int dtype, int dev_type, int dev_index);
ct_tensor ct_full_int(const int64_t *shape, int ndim, int64_t value, int dtype, int dev_type, int dev_index);
ct_tensor ct_arange(double start, double end, double step, int dtype, int dev_type, int dev_index);
ct_tensor ct_linspace(double start, double end, int64_t steps, int dtype, int dev_type, int dev_index);
ct_tensor ct_eye(int64_t n, int64_t m, int dtype, int dev_type, int dev_index);
ct_tensor ct_rand(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_randn(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_randperm(int64_t n, int dtype, int dev_type, int dev_index);
ct_tensor ct_zeros_like(ct_tensor t);
ct_tensor ct_ones_like(ct_tensor t);
ct_tensor ct_full_like(ct_tensor t, double value);
ct_tensor ct_rand_like(ct_tensor t);
ct_tensor ct_randn_like(ct_tensor t);
ct_tensor ct_bernoulli(ct_tensor probs);
/** In place: fills with U(low, high) / N(mean, std) / value from the global generator. */
int ct_uniform_(ct_tensor t, double low, double high);
int ct_normal_(ct_tensor t, double mean, double std);
int ct_fill_(ct_tensor t, double value);
int ct_zero_(ct_tensor t);

/* ---- explicit generators (torch.Generator, CPU) ---------------------------------------- */
/** An owned CPU generator; released with ct_generator_free. */
typedef struct ct_generator_s *ct_generator;
/** A new CPU generator seeded with `seed` (torch.Generator().manual_seed(seed)). */
ct_generator ct_generator_new(uint64_t seed);
void ct_generator_free(ct_generator g);
/** An independent generator in the same state. */
ct_generator ct_generator_clone(ct_generator g);
uint64_t ct_generator_initial_seed(ct_generator g);
int ct_generator_manual_seed(ct_generator g, uint64_t seed);
/** The generator's state as a uint8 tensor (Generator.get_state()). */
ct_tensor ct_generator_get_state(ct_generator g);
/** Restores a state from ct_generator_get_state; fails on a malformed state. */
int ct_generator_set_state(ct_generator g, ct_tensor state);
/** rand/randn/randint/randperm on the CPU drawing from `g`. */
ct_tensor ct_rand_gen(const int64_t *shape, int ndim, int dtype, ct_generator g);
ct_tensor ct_randn_gen(const int64_t *shape, int ndim, int dtype, ct_generator g);
ct_tensor ct_randint_gen(int64_t low, int64_t high, const int64_t *shape, int ndim, int dtype, ct_generator g);
ct_tensor ct_randperm_gen(int64_t n, int dtype, ct_generator g);
ct_tensor ct_bernoulli_gen(ct_tensor probs, ct_generator g);
/** In place U(low, high) / N(mean, std) from `g` (the tensor must be on the CPU). */
int ct_uniform_gen_(ct_tensor t, double low, double high, ct_generator g);
int ct_normal_gen_(ct_tensor t, double mean, double std, ct_generator g);
/** Dropout (training != 0) with its mask drawn from `g`. */
ct_tensor ct_dropout_gen(ct_tensor x, double p, int training, ct_generator g);
int ct_copy_(ct_tensor dst, ct_tensor src);

/* ---- conversion ---------------------------------------------------------------------- */
ct_tensor ct_to_dtype(ct_tensor t, int dtype);
ct_tensor ct_to_device(ct_tensor t, int dev_type, int dev_index, int non_blocking);
ct_tensor ct_contiguous(ct_tensor t);
ct_tensor ct_clone(ct_tensor t);

/* ---- shape ------------------------------------------------------------------------- */
ct_tensor ct_reshape(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_view(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_permute(ct_tensor t, const int64_t *dims, int ndim);
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1);
ct_tensor ct_squeeze(ct_tensor t);
ct_tensor ct_squeeze_dim(ct_tensor t, int64_t dim);
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim);
ct_tensor ct_expand(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_flatten(ct_tensor t, int64_t start_dim, int64_t end_dim);
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index);
/** A view with explicit sizes, strides and storage offset (bounds are checked by libtorch). */
ct_tensor ct_as_strided(ct_tensor t, const int64_t *size, const int64_t *stride, int ndim, int64_t offset);
ct_tensor ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length);
/** Advanced indexing: indices[i] == NULL means "all of dimension i". */
ct_tensor ct_index(ct_tensor t, const ct_tensor *indices, int n);
/** In place: t[indices] = values (accumulate: +=). */
int ct_index_put_(ct_tensor t, const ct_tensor *indices, int n, ct_tensor values, int accumulate);
ct_tensor ct_cat(const ct_tensor *ts, int n, int64_t dim);
ct_tensor ct_stack(const ct_tensor *ts, int n, int64_t dim);
/** Results are written to out (capacity cap); their number to *count. */
int ct_split(ct_tensor t, int64_t size, int64_t dim, ct_tensor *out, int cap, int *count);
int ct_split_sizes(ct_tensor t, const int64_t *sizes, int nsizes, int64_t dim, ct_tensor *out, int cap, int *count);
int ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor *out, int cap, int *count);
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_scatter_value(ct_tensor t, int64_t dim, ct_tensor index, double value);
ct_tensor ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, double value);
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b);
ct_tensor ct_repeat(ct_tensor t, const int64_t *repeats, int n);
ct_tensor ct_flip(ct_tensor t, const int64_t *dims, int n);
ct_tensor ct_nonzero(ct_tensor t);
ct_tensor ct_tril(ct_tensor t, int64_t diagonal);
ct_tensor ct_triu(ct_tensor t, int64_t diagonal);
ct_tensor ct_diag(ct_tensor t, int64_t diagonal);
ct_tensor ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor *indices);
ct_tensor ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, ct_tensor *indices);

/* ---- elementwise ------------------------------------------------------------------- */
typedef enum {
  CT_ADD, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_REMAINDER,
  CT_FLOOR_DIVIDE, CT_ATAN2,
  CT_EQ, CT_NE, CT_LT, CT_LE, CT_GT, CT_GE,
  CT_LOGICAL_AND, CT_LOGICAL_OR, CT_LOGICAL_XOR
} ct_binary_op;
typedef enum {
  CT_NEG, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_ABS, CT_SIGN, CT_RECIPROCAL, CT_SQUARE,
  CT_SIN, CT_COS, CT_TAN, CT_LOG1P, CT_EXPM1, CT_LOG2, CT_ERF, CT_FLOOR, CT_CEIL, CT_ROUND,
  CT_TRUNC, CT_RELU, CT_SIGMOID, CT_TANH, CT_SILU, CT_LOGSIGMOID, CT_SOFTPLUS,
  CT_ISFINITE, CT_ISNAN, CT_ISINF, CT_LOGICAL_NOT, CT_ERFINV
} ct_unary_op;
ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b);
/** a op s, or s op a when reversed != 0. */
ct_tensor ct_binary_scalar(int op, ct_tensor a, double s, int reversed);
/** As ct_binary_scalar with an integer scalar (an integer tensor stays integer, as in Python). */
ct_tensor ct_binary_scalar_int(int op, ct_tensor a, int64_t s, int reversed);
ct_tensor ct_unary(int op, ct_tensor a);
/** In place: a op= b / a op= s (op is one of ADD SUB MUL DIV POW MAXIMUM MINIMUM). */
int ct_binary_(int op, ct_tensor a, ct_tensor b);
int ct_binary_scalar_(int op, ct_tensor a, double s);
/** In place: a += alpha * b. */
int ct_add_scaled_(ct_tensor a, ct_tensor b, double alpha);
/** In place: a += value * b * c;  a += value * b / c;  a = a + weight * (b - a). */
int ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double value);
int ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double value);
int ct_lerp_(ct_tensor a, ct_tensor b, double weight);
/** In place: a = max(a, 0) (recorded by autograd like any in-place op). */
int ct_relu_(ct_tensor a);

/* Adam (decoupled = 0) or AdamW (decoupled = 1) on n parameters in one fused libtorch kernel,
 * each with its gradient, moments (max_exp_avg_sqs only with amsgrad, else may be NULL) and
 * its step count after this step. done[i] is set to 1 for each parameter updated, 0 for one
 * that does not qualify (not float32 on the CPU, or a gradient or moment laid out differently
 * from its parameter), left unchanged for the caller to update. Returns 0, or -1 on error. */
int ct_fused_adam(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                  const ct_tensor *exp_avg_sqs, const ct_tensor *max_exp_avg_sqs, const double *steps,
                  int n, double lr, double beta1, double beta2, double weight_decay, double eps,
                  int amsgrad, int maximize, int decoupled, int *done);
int ct_clamp_(ct_tensor t, double min, double max, int has_min, int has_max);
ct_tensor ct_clamp(ct_tensor t, double min, double max, int has_min, int has_max);
ct_tensor ct_clamp_tensor(ct_tensor t, ct_tensor min, ct_tensor max);

/* ---- reductions (dims == NULL / n == 0 means all dimensions) ----------------------- */
ct_tensor ct_sum(ct_tensor t, const int64_t *dims, int n, int keepdim);
ct_tensor ct_mean(ct_tensor t, const int64_t *dims, int n, int keepdim);
ct_tensor ct_prod(ct_tensor t, int64_t dim, int has_dim, int keepdim);
ct_tensor ct_amax(ct_tensor t, const int64_t *dims, int n, int keepdim);
ct_tensor ct_amin(ct_tensor t, const int64_t *dims, int n, int keepdim);
/** Values are returned, indices written to *indices. */
ct_tensor ct_max_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices);
ct_tensor ct_min_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices);
ct_tensor ct_argmax(ct_tensor t, int64_t dim, int has_dim, int keepdim);
ct_tensor ct_argmin(ct_tensor t, int64_t dim, int has_dim, int keepdim);
ct_tensor ct_var(ct_tensor t, const int64_t *dims, int n, double correction, int keepdim);
ct_tensor ct_std(ct_tensor t, const int64_t *dims, int n, double correction, int keepdim);
ct_tensor ct_norm(ct_tensor t, double p, const int64_t *dims, int n, int keepdim);
ct_tensor ct_logsumexp(ct_tensor t, const int64_t *dims, int n, int keepdim);
ct_tensor ct_cumsum(ct_tensor t, int64_t dim);
ct_tensor ct_all(ct_tensor t);
ct_tensor ct_any(ct_tensor t);

/* ---- linear algebra ---------------------------------------------------------------- */
ct_tensor ct_matmul(ct_tensor a, ct_tensor b);
ct_tensor ct_mm(ct_tensor a, ct_tensor b);
ct_tensor ct_bmm(ct_tensor a, ct_tensor b);
ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b);
ct_tensor ct_dot(ct_tensor a, ct_tensor b);
ct_tensor ct_outer(ct_tensor a, ct_tensor b);

/* ---- neural-network functions ------------------------------------------------------ */
ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups);
ct_tensor ct_max_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                        const int64_t *padding, const int64_t *dilation, int ceil_mode);
ct_tensor ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                        const int64_t *padding, int ceil_mode, int count_include_pad);
ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, const int64_t *output_size);
/** Updates running_mean/var in place when training and they are given. */
ct_tensor ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean,
                        ct_tensor running_var, int training, double momentum, double eps);
ct_tensor ct_layer_norm(ct_tensor x, const int64_t *normalized_shape, int n, ct_tensor w,
                        ct_tensor b, double eps);
ct_tensor ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps);
ct_tensor ct_dropout(ct_tensor x, double p, int training);
ct_tensor ct_leaky_relu(ct_tensor x, double slope);
/** approximate: 0 = exact (erf), 1 = tanh. */
ct_tensor ct_gelu(ct_tensor x, int approximate);
ct_tensor ct_softmax(ct_tensor x, int64_t dim);
ct_tensor ct_log_softmax(ct_tensor x, int64_t dim);
/** mode: 0 = bilinear, 1 = nearest, 2 = bicubic. */
ct_tensor ct_interpolate(ct_tensor x, const int64_t *size, int mode, int align_corners, int antialias);
ct_tensor ct_one_hot(ct_tensor t, int64_t num_classes);
ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices);

/* ---- losses (reduction: 0 none, 1 mean, 2 sum) ------------------------------------- */
ct_tensor ct_l1_loss(ct_tensor x, ct_tensor y, int reduction);
ct_tensor ct_mse_loss(ct_tensor x, ct_tensor y, int reduction);
ct_tensor ct_smooth_l1_loss(ct_tensor x, ct_tensor y, int reduction, double beta);
ct_tensor ct_huber_loss(ct_tensor x, ct_tensor y, int reduction, double delta);
ct_tensor ct_bce_with_logits(ct_tensor x, ct_tensor y, ct_tensor weight, ct_tensor pos_weight, int reduction);
ct_tensor ct_cross_entropy(ct_tensor x, ct_tensor y, ct_tensor weight, int reduction,
                           int64_t ignore_index, double label_smoothing);
ct_tensor ct_nll_loss(ct_tensor x, ct_tensor y, ct_tensor weight, int reduction, int64_t ignore_index);

/* ---- autograd ---------------------------------------------------------------------- */
int ct_requires_grad(ct_tensor t);
int ct_set_requires_grad(ct_tensor t, int requires_grad);
int ct_is_leaf(ct_tensor t);
/** The .grad of t, or NULL with an empty error when it has none. */
ct_tensor ct_grad(ct_tensor t);
int ct_set_grad(ct_tensor t, ct_tensor grad);
int ct_zero_grad(ct_tensor t, int set_to_none);
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph, int create_graph);
/**
 * torch::autograd::grad. gouts may be NULL (all implicit) or hold NULL entries. Results for
 * inputs that the outputs do not depend on are NULL (allow_unused).
 */
int ct_autograd_grad(const ct_tensor *outs, int n_out, const ct_tensor *ins, int n_in,
                     const ct_tensor *gouts, int retain_graph, int create_graph, ct_tensor *res);
ct_tensor ct_detach(ct_tensor t);
int ct_is_grad_enabled(void);
void ct_set_grad_enabled(int enabled);
/* Inference mode (c10::InferenceMode): enter returns a guard that exit destroys; guards are
   per thread and must be exited in reverse order of entering, on the entering thread. */
typedef struct ct_inference_guard_s *ct_inference_guard;
ct_inference_guard ct_inference_mode_enter(int enabled);
void ct_inference_mode_exit(ct_inference_guard guard);
int ct_is_inference_mode_enabled(void);
/* Whether a tensor is an inference tensor (created under inference mode). */
int ct_is_inference(ct_tensor t);

/* ---- mixed precision and memory format ------------------------------------------------ */
/* Autocast regions (torch.autocast): enter enables (or disables) autocast for a device type
   with a dtype, exit restores what was there; per thread, exited in reverse order. */
typedef struct ct_autocast_guard_s *ct_autocast_guard;
ct_autocast_guard ct_autocast_enter(int dev_type, int dtype, int enabled);
void ct_autocast_exit(ct_autocast_guard guard);
int ct_is_autocast_enabled(int dev_type);
/** t in the given memory format (channels_last 1: NHWC strides; 0: contiguous NCHW). */
ct_tensor ct_contiguous_format(ct_tensor t, int channels_last);
/** Whether a 4-D t is laid out channels-last. */
int ct_is_channels_last(ct_tensor t);
/** Replaces t's data by source's (`t.data = source`), keeping t's identity and autograd state. */
int ct_set_data(ct_tensor t, ct_tensor source);

/* ---- distributed (c10d) --------------------------------------------------------------- */
/** A key-value store for rendezvous (c10d::Store). */
typedef struct ct_store_s *ct_store;
/** A process group (a c10d backend: gloo). */
typedef struct ct_group_s *ct_group;
/** An asynchronous collective in flight (c10d::Work). */
typedef struct ct_work_s *ct_work;
/** Silences c10's own log lines below FATAL (c10d's retries and timeouts, with backtraces);
    the failures still reach the caller as errors. */
void ct_distributed_quiet_logs(void);
/** A TCPStore: the master (is_master=1) listens on port; every rank waits for world_size. */
ct_store ct_tcp_store_create(const char *host, int port, int world_size, int is_master, int64_t timeout_ms);
/** The same store with every key prefixed (c10d::PrefixStore). */
ct_store ct_prefix_store_create(const char *prefix, ct_store base);
void ct_store_free(ct_store s);
int ct_store_set(ct_store s, const char *key, const uint8_t *data, int64_t n);
/** Waits for key; returns its length (copies it when it fits capacity), -1 on error. */
int64_t ct_store_get(ct_store s, const char *key, uint8_t *out, int64_t capacity);
/** Atomically adds delta to a counter key; returns the new value (INT64_MIN on error). */
int64_t ct_store_add(ct_store s, const char *key, int64_t delta);
/** A gloo group over the store, its device bound to the network interface (if given), else
    the address hostname resolves to (if given), else the machine's hostname or loopback. */
ct_group ct_gloo_group_create(ct_store s, int rank, int size, const char *hostname, const char *interface,
                              int64_t timeout_ms, int threads);
void ct_group_free(ct_group g);
int ct_group_rank(ct_group g);
int ct_group_size(ct_group g);
/** In-place allreduce of t; op 0 sum, 1 average, 2 max, 3 min. NULL on error. */
ct_work ct_allreduce(ct_group g, ct_tensor t, int op);
/** In-place broadcast of t from root. */
ct_work ct_broadcast(ct_group g, ct_tensor t, int root);
/** Gathers input from every rank into outputs[0..n) (n = group size, same shapes). */
ct_work ct_allgather(ct_group g, ct_tensor input, const ct_tensor *outputs, int n);
ct_work ct_barrier(ct_group g);
/** The sum of t over ranks (blocking), differentiable: backward sums the gradients over
    ranks the same way (synchronized BatchNorm). The group must outlive the graph. */
ct_tensor ct_allreduce_sum_differentiable(ct_group g, ct_tensor t);
/** Waits for the collective (timeout_ms <= 0: the group's own timeout). 0, or -1 on error. */
int ct_work_wait(ct_work w, int64_t timeout_ms);
void ct_work_free(ct_work w);
/** Called with (context, index) right after a leaf's .grad is accumulated in backward. */
typedef void (*ct_grad_ready_fn)(void *context, int64_t index);
/** Sets (fn non-NULL) or clears the leaf's post-accumulate-grad hook. */
int ct_set_grad_ready_hook(ct_tensor t, ct_grad_ready_fn fn, void *context, int64_t index);

#ifdef __cplusplus
}
#endif
#endif
