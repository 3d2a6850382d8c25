// Asio and Beast compiled once, here (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set for the whole engine): every other file only sees
// declarations, which keeps rebuilds on two cores short.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>  // the h1 transport's https (tls_client.hpp)
#include <boost/beast/src.hpp>
