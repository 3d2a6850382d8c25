// Outlets changed through another instance's API reach this one's fan-out: a real SQLite store
// and a real engine; the other instance is the test writing the store directly.

#include "daemon/fanout.hpp"
#include "daemon/outlet_json.hpp"
#include "daemon/outlet_sync.hpp"

#include "store_test_support.hpp"

#include <algorithm>

namespace syndic::daemon {
namespace {

using namespace engine::store_test;

struct OutletSync : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<engine::store> db = open_or_fail(dir.path);
  engine::engine eng{engine::engine_options{}};
  fanout fan{*db, eng};
  std::vector<std::string> logged;

  outlet_sync_options options() {
    outlet_sync_options o;
    o.file_ids = {"from-file"};
    o.parse = [](const engine::stored_outlet& s, engine::outlet_config& out) {
      auto r = outlet_from_json(s.config, s.id);
      out = r.outlet;
      return r.error;
    };
    o.log = [this](const std::string& l) { logged.push_back(l); };
    return o;
  }
  void save(const std::string& id, const std::string& json) {
    ASSERT_TRUE(db->write_sync({engine::save_outlet{{id, json, {}}}}).ok());
  }
  bool in_fanout(const std::string& id) {
    auto v = fan.outlets();
    return std::any_of(v.begin(), v.end(), [&](const auto& o) { return o.id == id; });
  }
};

TEST_F(OutletSync, AddedChangedAndDeletedDefinitionsReachTheFanout) {
  outlet_sync sync(*db, fan, options());
  save("a", R"({"url":"http://127.0.0.1:9/a","format":"webhook"})");
  sync.sync_once();
  EXPECT_TRUE(in_fanout("a"));
  EXPECT_EQ(sync.counters().added, 1u);

  sync.sync_once();  // nothing changed: nothing applied
  EXPECT_EQ(sync.counters().added + sync.counters().changed, 1u);

  save("a", R"({"url":"http://127.0.0.1:9/a2","format":"atom"})");
  sync.sync_once();
  EXPECT_EQ(sync.counters().changed, 1u);

  ASSERT_TRUE(db->write_sync({engine::delete_outlet{"a"}}).ok());
  sync.sync_once();
  EXPECT_FALSE(in_fanout("a"));
  EXPECT_EQ(sync.counters().removed, 1u);
}

TEST_F(OutletSync, TheFileWinsAndWhatWasLoadedAtStartIsNotAppliedAgain) {
  ASSERT_EQ(fan.add_outlet(outlet_from_json(R"({"url":"http://127.0.0.1:9/f","format":"webhook"})", "from-file").outlet), "");
  save("from-file", R"({"url":"http://127.0.0.1:9/other","format":"webhook"})");
  save("loaded", R"({"url":"http://127.0.0.1:9/l","format":"webhook"})");
  outlet_sync sync(*db, fan, options());
  sync.seed(db->outlets().value);
  sync.sync_once();
  EXPECT_EQ(sync.counters().added, 0u);
  EXPECT_EQ(sync.counters().changed, 0u);
  EXPECT_TRUE(in_fanout("from-file"));
  // Deleting the stored copy of a file outlet does not remove the file's outlet either.
  ASSERT_TRUE(db->write_sync({engine::delete_outlet{"from-file"}}).ok());
  sync.sync_once();
  EXPECT_TRUE(in_fanout("from-file"));
}

TEST_F(OutletSync, ABadDefinitionIsRefusedOnceAndLogged) {
  outlet_sync sync(*db, fan, options());
  save("bad", R"({"url":"gopher://127.0.0.1/x","format":"webhook"})");
  sync.sync_once();
  sync.sync_once();
  EXPECT_FALSE(in_fanout("bad"));
  EXPECT_EQ(sync.counters().refused, 1u);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("'bad'"), std::string::npos) << logged[0];
}

TEST_F(OutletSync, TheThreadAppliesChangesWithinItsInterval) {
  auto o = options();
  o.interval = std::chrono::milliseconds(20);
  outlet_sync sync(*db, fan, o);
  sync.start();
  save("t", R"({"url":"http://127.0.0.1:9/t","format":"webhook"})");
  for (int i = 0; i < 500 && !in_fanout("t"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(in_fanout("t"));
  sync.stop();
}

}  // namespace
}  // namespace syndic::daemon
