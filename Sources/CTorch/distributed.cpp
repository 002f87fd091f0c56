// c10d: TCPStore rendezvous, the gloo process group, asynchronous collectives, and the
// post-accumulate-grad hook that lets Swift launch gradient buckets during backward.
// gloo's headers come from Debian's libgloo-dev (the wheel ships c10d's, not gloo's);
// SwiftPM's debug -DDEBUG=1 clashes with an identifier in gloo's logging header.
#ifdef DEBUG
#undef DEBUG
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <c10/util/Logging.h>

#include "shim.h"

using namespace ctorch;

struct ct_store_s {
  c10::intrusive_ptr<c10d::Store> store;
};
struct ct_group_s {
  c10::intrusive_ptr<c10d::Backend> backend;
  int rank;
  int size;
};
struct ct_work_s {
  c10::intrusive_ptr<c10d::Work> work;
};

namespace {
ct_work wrap_work(c10::intrusive_ptr<c10d::Work> w) { return new ct_work_s{std::move(w)}; }

c10d::ReduceOp reduce_op(int op) {
  switch (op) {
    case 0: return c10d::ReduceOp::SUM;
    case 1: return c10d::ReduceOp::AVG;
    case 2: return c10d::ReduceOp::MAX;
    case 3: return c10d::ReduceOp::MIN;
    default: TORCH_CHECK(false, "unknown reduce op ", op);
  }
}

/** Calls a C function with the parameter's index once its .grad has been accumulated. */
struct CallbackHook : torch::autograd::PostAccumulateGradHook {
  ct_grad_ready_fn fn;
  void *context;
  int64_t index;
  CallbackHook(ct_grad_ready_fn f, void *c, int64_t i) : fn(f), context(c), index(i) {}
  void operator()(const torch::autograd::Variable &) override { fn(context, index); }
};
/** Sum over ranks that autograd differentiates: the gradient is the sum of the ranks'
    gradients (every rank's output depends on every rank's input). */
struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
  static at::Tensor sum(ct_group g, const at::Tensor &x) {
    std::vector<at::Tensor> v{x.contiguous().clone()};
    g->backend->allreduce(v)->wait();
    return v[0];
  }
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t group) {
    ctx->saved_data["group"] = group;
    return sum(reinterpret_cast<ct_group>(group), x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto g = reinterpret_cast<ct_group>(ctx->saved_data["group"].toInt());
    return {sum(g, grads[0]), at::Tensor()};
  }
};
}  // namespace

extern "C" {
void ct_distributed_quiet_logs(void) {
  // c10d logs each failed connection attempt and timeout with a C++ backtrace; HydraNet
  // reports those failures itself, as errors with one clear message.
  FLAGS_caffe2_log_level = std::max<int>(FLAGS_caffe2_log_level, 3);
}
ct_tensor ct_allreduce_sum_differentiable(ct_group g, ct_tensor t) {
  CT_TENSOR(AllReduceSum::apply(T(t), reinterpret_cast<int64_t>(g)))
}
ct_store ct_tcp_store_create(const char *host, int port, int world_size, int is_master, int64_t timeout_ms) {
  CT_GUARD(return nullptr;,
           c10d::TCPStoreOptions o;
           o.port = static_cast<std::uint16_t>(port);
           o.isServer = is_master != 0;
           o.numWorkers = world_size;
           o.waitWorkers = true;
           o.timeout = std::chrono::milliseconds(timeout_ms);
           auto s = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
           return new ct_store_s{s};)
}
ct_store ct_prefix_store_create(const char *prefix, ct_store base) {
  CT_GUARD(return nullptr;,
           return new ct_store_s{c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), base->store)};)
}
void ct_store_free(ct_store s) { delete s; }
int ct_store_set(ct_store s, const char *key, const uint8_t *data, int64_t n) {
  CT_STATUS(s->store->set(std::string(key), std::vector<uint8_t>(data, data + n));)
}
int64_t ct_store_get(ct_store s, const char *key, uint8_t *out, int64_t capacity) {
  CT_GUARD(return -1;,
           auto v = s->store->get(std::string(key));
           int64_t n = static_cast<int64_t>(v.size());
           if (out && n <= capacity) std::memcpy(out, v.data(), v.size());
           return n;)
}
int64_t ct_store_add(ct_store s, const char *key, int64_t delta) {
  CT_GUARD(return INT64_MIN;, return s->store->add(std::string(key), delta);)
}

ct_group ct_gloo_group_create(ct_store s, int rank, int size, const char *hostname, const char *interface,
                               int64_t timeout_ms, int threads) {
  CT_GUARD(return nullptr;,
           auto o = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeout_ms));
           std::string h = hostname ? hostname : "", i = interface ? interface : "";
           o->devices.push_back(!i.empty()   ? c10d::ProcessGroupGloo::createDeviceForInterface(i)
                                : !h.empty() ? c10d::ProcessGroupGloo::createDeviceForHostname(h)
                                             : c10d::ProcessGroupGloo::createDefaultDevice());
           o->threads = threads > 0 ? threads : 2;
           auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(s->store, rank, size, o);
           return new ct_group_s{pg, rank, size};)
}
void ct_group_free(ct_group g) { delete g; }
int ct_group_rank(ct_group g) { return g->rank; }
int ct_group_size(ct_group g) { return g->size; }

ct_work ct_allreduce(ct_group g, ct_tensor t, int op) {
  CT_GUARD(return nullptr;,
           std::vector<at::Tensor> v{T(t)};
           c10d::AllreduceOptions o;
           o.reduceOp = reduce_op(op);
           return wrap_work(g->backend->allreduce(v, o));)
}
ct_work ct_broadcast(ct_group g, ct_tensor t, int root) {
  CT_GUARD(return nullptr;,
           std::vector<at::Tensor> v{T(t)};
           c10d::BroadcastOptions o;
           o.rootRank = root;
           return wrap_work(g->backend->broadcast(v, o));)
}
ct_work ct_allgather(ct_group g, ct_tensor input, const ct_tensor *outputs, int n) {
  CT_GUARD(return nullptr;,
           std::vector<at::Tensor> in{T(input)};
           std::vector<std::vector<at::Tensor>> out{list(outputs, n)};
           return wrap_work(g->backend->allgather(out, in));)
}
ct_work ct_barrier(ct_group g) { CT_GUARD(return nullptr;, return wrap_work(g->backend->barrier());) }
int ct_work_wait(ct_work w, int64_t timeout_ms) {
  CT_GUARD(return -1;,
           bool done = w->work->wait(timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : kNoTimeout);
           TORCH_CHECK(done, "collective did not finish within ", timeout_ms, " ms");
           return 0;)
}
void ct_work_free(ct_work w) { delete w; }

int ct_set_grad_ready_hook(ct_tensor t, ct_grad_ready_fn fn, void *context, int64_t index) {
  CT_STATUS(
      TORCH_CHECK(T(t).is_leaf() && T(t).requires_grad(), "a gradient hook needs a leaf that requires grad");
      torch::autograd::impl::set_post_acc_grad_hooks(
          T(t), fn ? std::make_unique<CallbackHook>(fn, context, index) : nullptr);)
}
}
