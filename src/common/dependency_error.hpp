#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace orders {

// A dependency (PostgreSQL, Redis, RabbitMQ) is down or did not answer in time. The HTTP
// layer answers it with 503 naming the dependency; everything else is a bug (500).
class DependencyUnavailable : public std::runtime_error {
 public:
  DependencyUnavailable(std::string_view dependency, std::string_view detail)
      : std::runtime_error(std::string(dependency) + " unavailable: " + std::string(detail)), dependency_(dependency) {}

  const std::string& dependency() const { return dependency_; }

 private:
  std::string dependency_;
};

}  // namespace orders
