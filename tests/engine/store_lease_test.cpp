// Leases and fencing tokens, on each backend. The clock is the test's (options::clock, passed to
// the store: with it PostgreSQL judges expiry by it too, not by the server's): expiry is reached
// by moving it, never by sleeping. Two store objects on one file (one schema) stand for two
// processes.

#include "store_test_support.hpp"

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

struct StoreLease : backend_test {
  manual_clock clock;
  std::unique_ptr<store> db;
  void SetUp() override {
    backend_test::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db = open(with_clock());
    ASSERT_TRUE(db);
  }
  options with_clock() {
    options o;
    o.clock = clock.fn();
    return o;
  }
};
SYNDIC_STORE_BACKENDS(StoreLease);

TEST_P(StoreLease, AcquireFreeLeaseThenOthersAreRefused) {
  auto a = db->acquire_lease_sync("partition/1", "node-a", 10s);
  ASSERT_TRUE(a.ok() && a.value) << a.status.message;
  EXPECT_EQ(a.value->token, 1u);
  EXPECT_EQ(a.value->owner, "node-a");
  EXPECT_EQ(a.value->expires, clock.now() + 10s);
  auto b = db->acquire_lease_sync("partition/1", "node-b", 10s);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b.value.has_value());
  // The holder acquiring again keeps its token (and extends its lease).
  clock.advance(5s);
  auto again = db->acquire_lease_sync("partition/1", "node-a", 10s);
  ASSERT_TRUE(again.value);
  EXPECT_EQ(again.value->token, 1u);
  EXPECT_EQ(again.value->expires, clock.now() + 10s);
}

TEST_P(StoreLease, ExpiredLeaseIsTakenOverWithAGreaterToken) {
  auto a = db->acquire_lease_sync("p", "node-a", 10s).value;
  ASSERT_TRUE(a);
  clock.advance(9s);
  EXPECT_FALSE(db->acquire_lease_sync("p", "node-b", 10s).value.has_value());  // not yet
  clock.advance(1s);  // expires now: at `expires` the lease is no longer held
  auto b = db->acquire_lease_sync("p", "node-b", 10s).value;
  ASSERT_TRUE(b);
  EXPECT_GT(b->token, a->token);
  EXPECT_EQ(db->get_lease("p").value->owner, "node-b");
  // The old holder cannot renew: its lease is gone.
  EXPECT_FALSE(db->renew_lease_sync(*a, 10s).value.has_value());
  // Even the same owner taking an expired lease again gets a new token.
  clock.advance(11s);
  auto b2 = db->acquire_lease_sync("p", "node-b", 10s).value;
  ASSERT_TRUE(b2);
  EXPECT_GT(b2->token, b->token);
}

TEST_P(StoreLease, RenewKeepsTheTokenAndExtends) {
  auto a = db->acquire_lease_sync("p", "node-a", 10s).value;
  ASSERT_TRUE(a);
  clock.advance(8s);
  auto r = db->renew_lease_sync(*a, 10s).value;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->token, a->token);
  EXPECT_EQ(r->expires, clock.now() + 10s);
  clock.advance(8s);  // past the first expiry, within the renewed one
  EXPECT_FALSE(db->acquire_lease_sync("p", "node-b", 10s).value.has_value());
  // A renewal after expiry fails even if nobody took the lease: acquire again.
  clock.advance(3s);
  EXPECT_FALSE(db->renew_lease_sync(*r, 10s).value.has_value());
}

TEST_P(StoreLease, ReleaseFreesAndTheTokenStillGrows) {
  auto a = db->acquire_lease_sync("p", "node-a", 10s).value;
  ASSERT_TRUE(a);
  lease wrong = *a;
  wrong.token = 99;
  ASSERT_TRUE(db->release_lease_sync(wrong).ok());  // not the holder's token: no effect
  EXPECT_FALSE(db->acquire_lease_sync("p", "node-b", 10s).value.has_value());
  ASSERT_TRUE(db->release_lease_sync(*a).ok());
  auto b = db->acquire_lease_sync("p", "node-b", 10s).value;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->token, a->token + 1);
  EXPECT_FALSE(db->renew_lease_sync(*a, 10s).value.has_value());
}

TEST_P(StoreLease, FencedWritesAreRefusedOnceTheTokenMoves) {
  auto a = db->acquire_lease_sync("partition/3", "node-a", 10s).value;
  ASSERT_TRUE(a);
  const fence fa{"partition/3", a->token};
  ASSERT_TRUE(db->write_sync({start_outlet{"o", 0}, mark_done{"o", 1}}, fa).ok());
  clock.advance(11s);
  auto b = db->acquire_lease_sync("partition/3", "node-b", 10s).value;
  ASSERT_TRUE(b);
  // node-a, stalled past its lease, tries to record progress: refused, nothing applied.
  auto s = db->write_sync({mark_done{"o", 2}, mark_done{"o", 3}}, fa);
  EXPECT_EQ(s.code, store_errc::fenced);
  EXPECT_NE(s.message.find("partition/3"), std::string::npos) << s.message;
  EXPECT_EQ(db->progress("o").value->cursor, 1u);
  ASSERT_TRUE(db->write_sync({mark_done{"o", 2}}, fence{"partition/3", b->token}).ok());
  EXPECT_EQ(db->progress("o").value->cursor, 2u);
  // A fence on a lease that never existed refuses too.
  EXPECT_EQ(db->write_sync({mark_done{"o", 3}}, fence{"nope", 1}).code, store_errc::fenced);
}

// Two store objects on one file (one schema), as two processes would be: the database's locks
// serialise their writers, the lease decides who acts, and fencing stops the loser.
TEST_P(StoreLease, TwoStoresOnOneFileShareLeasesAndTheLog) {
  auto other = open(with_clock());
  auto a = db->acquire_lease_sync("p", "node-a", 10s).value;
  ASSERT_TRUE(a);
  EXPECT_FALSE(other->acquire_lease_sync("p", "node-b", 10s).value.has_value());
  clock.advance(10s);
  auto b = other->acquire_lease_sync("p", "node-b", 10s).value;
  ASSERT_TRUE(b);
  EXPECT_GT(b->token, a->token);
  EXPECT_EQ(db->write_sync({kv_put{"x", "y", "z"}}, fence{"p", a->token}).code, store_errc::fenced);

  // Appends from both interleave into one log without reusing a seq.
  std::vector<seq_t> seqs;
  for (std::size_t i = 0; i < 20; ++i) {
    auto r = (i % 2 ? db : other)->append_sync({{entry(i)}, ""});
    ASSERT_TRUE(r.ok()) << r.status.message;
    seqs.push_back(r.value.seqs.at(0));
  }
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1);
  EXPECT_EQ(db->head().value, other->head().value);
}

TEST_P(StoreLease, LeasesAreListedByPrefixExpiredAndReleasedToo) {
  auto m1 = db->acquire_lease_sync("member/a", "a", 10s).value;
  auto m2 = db->acquire_lease_sync("member/b", "b", 10s).value;
  ASSERT_TRUE(m1 && m2);
  ASSERT_TRUE(db->acquire_lease_sync("partition/1", "a", 10s).value);
  ASSERT_TRUE(db->acquire_lease_sync("member_x", "x", 10s).value);  // shares no prefix "member/"
  ASSERT_TRUE(db->acquire_lease_sync("member%", "y", 10s).value);   // LIKE's wildcard is plain text
  ASSERT_TRUE(db->release_lease_sync(*m2).ok());
  clock.advance(11s);  // every lease expired
  auto members = db->leases("member/");
  ASSERT_TRUE(members.ok()) << members.status.message;
  ASSERT_EQ(members.value.size(), 2u);
  EXPECT_EQ(members.value[0].name, "member/a");
  EXPECT_EQ(members.value[0].owner, "a");
  EXPECT_EQ(members.value[1].name, "member/b");
  EXPECT_EQ(members.value[1].owner, "");  // released
  EXPECT_EQ(db->leases("").value.size(), 5u);
  EXPECT_TRUE(db->leases("nothing/").value.empty());
  ASSERT_EQ(db->leases("member%").value.size(), 1u);
}

}  // namespace
}  // namespace syndic::engine
