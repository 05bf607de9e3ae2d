// Errors raised by the rlwe/ckks layers. `code` is one of the stable HeftyError codes (src/errors.ts), so the
// addon can hand it to JavaScript unchanged.
#pragma once
#include <stdexcept>
#include <string>

namespace hefty::rlwe {

class OpError : public std::runtime_error {
 public:
  OpError(const char* code, const std::string& message) : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

[[noreturn]] inline void fail(const char* code, const std::string& message) { throw OpError(code, message); }

}  // namespace hefty::rlwe
