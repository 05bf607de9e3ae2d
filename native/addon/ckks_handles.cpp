#include "ckks_handles.h"

#include <atomic>
#include <cstring>

#include "../rlwe/op_error.h"
#include "../rlwe/thread_pool.h"

namespace hefty::addon {

void KeySet::rebuild_views() {
  views.parms_id = stored.parms_id;
  views.keys.clear();
  views.keys.resize(stored.keys.size());
  for (std::size_t i = 0; i < stored.keys.size(); i++) {
    for (const auto& part : stored.keys[i]) views.keys[i].entries.push_back(part.data.data());
  }
}

namespace {
std::atomic<std::int64_t> handle_count{0};

// The result-info block of this thread's environment (see ckks_handles.h); null before registration and after
// the environment's teardown. One environment per thread in Node, so thread_local is per environment.
thread_local std::uint8_t* result_info = nullptr;

void record_result_info(Kind kind, const void* value) {
  if (result_info == nullptr) return;
  if (kind == Kind::Cipher) {
    const auto* ct = static_cast<const rlwe::Cipher*>(value);
    const double fields[3] = {static_cast<double>(ct->size), ct->scale, ct->ntt_form ? 1.0 : 0.0};
    std::memcpy(result_info, ct->parms_id.data(), kResultInfoParmsIdBytes);
    std::memcpy(result_info + kResultInfoParmsIdBytes, fields, sizeof fields);
  } else if (kind == Kind::Plain) {
    const auto* pt = static_cast<const rlwe::Plain*>(value);
    const double fields[3] = {0.0, pt->scale, 0.0};
    std::memcpy(result_info, pt->parms_id.data(), kResultInfoParmsIdBytes);
    std::memcpy(result_info + kResultInfoParmsIdBytes, fields, sizeof fields);
  }
}
}  // namespace

Handle::Handle() { handle_count.fetch_add(1, std::memory_order_relaxed); }
Handle::~Handle() { handle_count.fetch_sub(1, std::memory_order_relaxed); }

std::int64_t live_handles() { return handle_count.load(std::memory_order_relaxed); }

Napi::Value wrap(Napi::Env env, Kind kind, std::shared_ptr<void> value) {
  record_result_info(kind, value.get());
  auto handle = std::make_unique<Handle>();
  handle->kind = kind;
  handle->value = std::move(value);
  return Napi::External<Handle>::New(env, handle.release(), [](Napi::Env, Handle* h) { std::unique_ptr<Handle> owned(h); });
}

std::shared_ptr<void> unwrap_any(const Napi::Value& value, Kind kind) {
  if (!value.IsExternal()) rlwe::fail("E_INVALID_ARGUMENT", "expected a native engine object");
  Handle* h = value.As<Napi::External<Handle>>().Data();
  if (h == nullptr || h->magic != Handle::kMagic || h->kind != kind) rlwe::fail("E_INVALID_ARGUMENT", "native object of the wrong kind");
  if (!h->value) rlwe::fail("E_DISPOSED", "object was disposed");
  return h->value;
}

Napi::Error coded_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void throw_coded(Napi::Env env, const char* code, const std::string& message) {
  coded_error(env, code, message).ThrowAsJavaScriptException();
}

namespace {

// Turns the exception being handled into a pending JS exception. Never throws: when the JS error cannot be made
// or thrown (a worker thread being terminated mid-call), nothing can reach JS any more and the error is dropped;
// letting it escape would abort the whole process.
void raise_current(Napi::Env env) noexcept {
  try {
    try {
      throw;
#ifdef NAPI_CPP_EXCEPTIONS
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
#endif
    } catch (const rlwe::OpError& e) {
      throw_coded(env, e.code(), e.what());
    } catch (const std::bad_alloc&) {
      throw_coded(env, "E_INTERNAL", "out of memory");
    } catch (const std::exception& e) {
      throw_coded(env, "E_INTERNAL", e.what());
    } catch (...) {
      throw_coded(env, "E_INTERNAL", "unknown native error");
    }
  } catch (...) {
    // The environment is shutting down: see above.
  }
}

}  // namespace

Napi::Value guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (...) {
    raise_current(env);
  }
  return Napi::Value();  // undefined; making a value could itself fail while terminating
}

double arg_number(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) rlwe::fail("E_INVALID_ARGUMENT", "expected a number argument");
  return info[i].As<Napi::Number>().DoubleValue();
}

std::vector<std::uint64_t> arg_u64s(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsTypedArray()) rlwe::fail("E_INVALID_ARGUMENT", "expected a BigUint64Array");
  Napi::TypedArray array = info[i].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_biguint64_array) rlwe::fail("E_INVALID_ARGUMENT", "expected a BigUint64Array");
  Napi::TypedArrayOf<std::uint64_t> words = info[i].As<Napi::TypedArrayOf<std::uint64_t>>();
  return std::vector<std::uint64_t>(words.Data(), words.Data() + words.ElementLength());
}

std::pair<const std::uint8_t*, std::size_t> arg_bytes(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsTypedArray()) rlwe::fail("E_BAD_SERIALIZATION", "expected a Uint8Array");
  Napi::TypedArray array = info[i].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) rlwe::fail("E_BAD_SERIALIZATION", "expected a Uint8Array");
  Napi::Uint8Array bytes = info[i].As<Napi::Uint8Array>();
  return {bytes.Data(), bytes.ByteLength()};
}

ckks::ParmsId arg_parms_id(const Napi::CallbackInfo& info, std::size_t i) {
  const std::vector<std::uint64_t> words = arg_u64s(info, i);
  if (words.size() != 4) rlwe::fail("E_INVALID_ARGUMENT", "parms_id must have 4 words");
  return {words[0], words[1], words[2], words[3]};
}

Napi::Value to_u64_array(Napi::Env env, const std::uint64_t* words, std::size_t count) {
  auto out = Napi::TypedArrayOf<std::uint64_t>::New(env, count, napi_biguint64_array);
  std::memcpy(out.Data(), words, count * sizeof(std::uint64_t));
  return out;
}

Napi::Value to_bytes(Napi::Env env, const std::function<std::size_t(std::uint8_t*)>& write) {
  const std::size_t size = write(nullptr);
  // A node::Buffer's storage is not zero-filled first (a plain ArrayBuffer's is), and write() sets every byte;
  // callers get a plain Uint8Array over it. Not an external ArrayBuffer over pooled native memory: Node runs
  // external-buffer finalizers from setImmediate, so a synchronous loop of saves never gets storage back (1000
  // saves hold 393 MB until the loop yields) and every call touches fresh pages; V8's own buffers are freed by GC.
  auto storage = Napi::Buffer<std::uint8_t>::New(env, size);
  write(storage.Data());
  return Napi::Uint8Array::New(env, size, storage.ArrayBuffer(), storage.ByteOffset());
}

namespace {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, ToJs to_js, std::function<std::shared_ptr<void>()> work)
      : Napi::AsyncWorker(env),
        to_js_(std::move(to_js)),
        work_(std::move(work)),
        deferred_(Napi::Promise::Deferred::New(env)),
        threads_(rlwe::ThreadPool::instance().threads()) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    // The libuv thread inherits the intra-op thread setting of the JS thread that queued the work.
    rlwe::ThreadPool::set_thread_limit(threads_);
    try {
      result_ = work_();
    } catch (const rlwe::OpError& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::exception& e) {
      code_ = "E_INTERNAL";
      message_ = e.what();
    } catch (...) {
      code_ = "E_INTERNAL";
      message_ = "unknown native error";
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (code_ != nullptr) {
      deferred_.Reject(coded_error(env, code_, message_).Value());
    } else {
      deferred_.Resolve(to_js_(env, std::move(result_)));
    }
  }

 private:
  ToJs to_js_;
  std::function<std::shared_ptr<void>()> work_;
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<void> result_;
  const char* code_ = nullptr;
  std::string message_;
  std::size_t threads_;
};

}  // namespace

Napi::Value run_async(Napi::Env env, Kind kind, std::function<std::shared_ptr<void>()> work) {
  return run_async(env, [kind](Napi::Env e, std::shared_ptr<void> result) { return wrap(e, kind, std::move(result)); },
                   std::move(work));
}

Napi::Value run_async(Napi::Env env, ToJs to_js, std::function<std::shared_ptr<void>()> work) {
  auto* worker = new PromiseWorker(env, std::move(to_js), std::move(work));  // owned by libuv; deletes itself when done
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

void register_ckks(Napi::Env env, Napi::Object exports) {
  Napi::ArrayBuffer info_block = Napi::ArrayBuffer::New(env, kResultInfoBytes);
  result_info = static_cast<std::uint8_t*>(info_block.Data());
  exports.Set("resultInfo", info_block);
  napi_add_env_cleanup_hook(env, [](void*) { result_info = nullptr; }, nullptr);
  register_context_functions(env, exports);
  register_object_functions(env, exports);
  register_key_functions(env, exports);
  register_evaluator_functions(env, exports);
}

}  // namespace hefty::addon
