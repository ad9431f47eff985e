#include <gtest/gtest.h>

#include <thread>

#include "worker/confirm_wait.hpp"

using orders::rabbitmq::PublishOutcome;
using orders::worker::ConfirmWait;

// The worker waits a bounded time for the confirms of a batch's status events, then moves on;
// the publisher's thread may complete a message after that (a broker that confirms late or is
// paused). The completion must not touch the waiter, which is gone by then. Under ASan (scripts/
// sanitize.sh) a completion holding a reference to the waiter is a heap-use-after-free here.
TEST(ConfirmWait, ACompletionAfterTheWaiterGaveUpAndWasDestroyedIsHarmless) {
  auto waiter = std::make_unique<ConfirmWait>();
  auto on_time = waiter->completion();
  auto late = waiter->completion();
  on_time->complete(PublishOutcome::kConfirmed);
  EXPECT_EQ(waiter->wait(std::chrono::milliseconds(20)), 1) << "gives up on the late one";
  waiter.reset();
  // The publisher's thread, later.
  std::thread publisher([c = std::move(late)] { c->complete(PublishOutcome::kConfirmed); });
  publisher.join();
}

TEST(ConfirmWait, CountsOnlyConfirmsAndReturnsOnceAllHaveCompleted) {
  ConfirmWait waiter;
  std::vector<std::unique_ptr<orders::rabbitmq::Publisher::Completion>> completions;
  for (int i = 0; i < 4; ++i) completions.push_back(waiter.completion());
  completions[0]->complete(PublishOutcome::kNotSent);  // enqueue may complete at once
  std::thread publisher([&] {
    completions[1]->complete(PublishOutcome::kConfirmed);
    completions[2]->complete(PublishOutcome::kNacked);
    completions[3]->complete(PublishOutcome::kConfirmed);
  });
  // Every completion arrives: the wait ends on the count, not on the (long) bound.
  EXPECT_EQ(waiter.wait(std::chrono::seconds(30)), 2);
  publisher.join();
}
