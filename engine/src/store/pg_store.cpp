// (being written: the PostgreSQL store. Until it lands, opening one says so.)
#include <syndic/engine/store.hpp>

namespace syndic::engine {

store_result<std::unique_ptr<store>> open_postgres_store(const std::string&, postgres_options) {
  return {{store_errc::invalid_argument, "the PostgreSQL store is not built yet"}, nullptr};
}

store_result<migration_report> migrate_postgres_store(const std::string&, const std::string&) {
  return {{store_errc::invalid_argument, "the PostgreSQL store is not built yet"}, {}};
}

}  // namespace syndic::engine
