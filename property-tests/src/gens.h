// RapidCheck generators of raw scenarios (see scenario.h).
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include <rapidcheck.h>

#include "scenario.h"

namespace props::gens {

// An index drawn with the given weights, whatever the size; shrinks towards
// the lowest index with a non-zero weight.
inline rc::Gen<std::uint8_t> choice(std::vector<int> w) {
  return rc::Gen<std::uint8_t>([w](const rc::Random& random, int) {
    const int total = std::accumulate(w.begin(), w.end(), 0);
    std::uint8_t idx = 0;
    if (total > 0) {
      auto r = static_cast<int>(rc::Random(random).next() % static_cast<std::uint64_t>(total));
      while (r >= w[idx]) r -= w[idx++];
    }
    return rc::shrinkable::shrinkRecur(idx, [w](std::uint8_t x) {
      return rc::seq::filter(rc::shrink::towards<std::uint8_t>(x, 0),
                             [w](std::uint8_t y) { return w[y] > 0; });
    });
  });
}

// Uniform in [0, n) whatever the size; shrinks towards 0.
inline rc::Gen<std::uint8_t> small(int n) { return choice(std::vector<int>(static_cast<std::size_t>(n), 1)); }

template <class T>
rc::Gen<std::vector<T>> list_upto(int n, rc::Gen<T> g) {
  return rc::gen::resize(n, rc::gen::container<std::vector<T>>(std::move(g)));
}

template <class A>
std::vector<int> weights(const A& a) {
  return std::vector<int>(a.begin(), a.end());
}

inline rc::Gen<RawAction> action(const Profile& p) {
  return rc::gen::build<RawAction>(rc::gen::set(&RawAction::kind, choice(weights(p.action_weights))),
                                   rc::gen::set(&RawAction::a, small(16)),
                                   rc::gen::set(&RawAction::b, small(kValueCount)));
}

inline rc::Gen<std::vector<std::uint8_t>> args() {
  return rc::gen::weightedOneOf<std::vector<std::uint8_t>>(
      {{5, rc::gen::just(std::vector<std::uint8_t>{})}, {1, list_upto(2, small(kPlainValueCount))}});
}

inline rc::Gen<RawHandler> handler(const Profile& p) {
  return rc::gen::build<RawHandler>(rc::gen::set(&RawHandler::body, list_upto(p.max_body, action(p))),
                                    rc::gen::set(&RawHandler::args, args()));
}

inline rc::Gen<RawStep> step(const Profile& p) {
  return rc::gen::build<RawStep>(
      rc::gen::set(&RawStep::kind, choice(weights(p.step_weights))),
      rc::gen::set(&RawStep::a, small(16)),
      rc::gen::set(&RawStep::refire, choice({100 - p.refire_percent, p.refire_percent})),
      rc::gen::set(&RawStep::b, small(kValueCount)), rc::gen::set(&RawStep::c, small(8)),
      rc::gen::set(&RawStep::h1, handler(p)), rc::gen::set(&RawStep::h2, handler(p)),
      rc::gen::set(&RawStep::members, list_upto(4, small(16))));
}

inline rc::Gen<std::vector<RawStep>> steps(const Profile& p) {
  return rc::gen::scale(p.max_steps / 100.0, rc::gen::container<std::vector<RawStep>>(step(p)));
}

}  // namespace props::gens
