#include "deferred/deferred.h"

#include "coroutine_step.h"
#include "line_holder.h"
#include "list_step.h"
#include "lock_pool.h"
#include "queue_state.h"

#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace deferred::detail {

namespace {

// --- Unhandled errors ---------------------------------------------------------

std::atomic<bool> debugMode{false};

// The origin of the Deferred being reported, during a sink call.
std::string& currentOrigin() {
  thread_local std::string origin;
  return origin;
}

void defaultSink(const Failure& failure) {
  std::string text = "Unhandled error in Deferred:\nFailure: " +
                     failure.toString() + "\n";
  if (!currentOrigin().empty()) text += "(" + currentOrigin() + ")\n";
  std::fputs(text.c_str(), stderr);
}

std::string where(const std::source_location& at) {
  return std::string(at.file_name()) + ":" + std::to_string(at.line()) +
         " in " + at.function_name();
}

UnhandledErrorSink& sinkSlot() {
  static UnhandledErrorSink sink = &defaultSink;
  return sink;
}

void reportUnhandled(const Failure& failure) noexcept {
  try {
    sinkSlot()(failure);
  } catch (...) {
    // A destructor must not throw; the report is best effort.
  }
}

// --- Logged errors -------------------------------------------------------------

void defaultLogSink(std::string_view context, const Failure& failure) {
  std::string text = std::string(context) + ": " + failure.toString() + "\n";
  std::fputs(text.c_str(), stderr);
}

ErrorLogSink& logSinkSlot() {
  static ErrorLogSink sink = &defaultLogSink;
  return sink;
}

// --- Iterative destruction ----------------------------------------------------

// Destroying a state releases the Deferreds its handlers and results hold,
// which may destroy further states. Those are queued instead of destroyed
// recursively, so a million-long chain unwinds in a loop.
struct Graveyard {
  bool active = false;
  std::vector<DeferredState*> queue;
  // Released while `active` and perhaps in a cycle: checked once the
  // destruction is over (most are destroyed by then). Weak references.
  std::vector<DeferredState*> suspects;
};

Graveyard& graveyard() {
  thread_local Graveyard instance;
  return instance;
}

void dispose(DeferredState* state) noexcept {
  if (state->failureRecorded && state->kind == ResultKind::Failure) {
    if (state->debug) currentOrigin() = state->debug->describe();
    reportUnhandled(state->failure);
    currentOrigin().clear();
  }
  state->dead = true;
  // Destroying the steps, the canceller and the result runs destructors
  // that may drop weak references to this very state (a coroutine frame
  // owned by a step holds one): keep the memory until the end.
  ++state->weak;
  state->steps.clear();
  state->canceller.reset();
  state->clearResult();
  if (DeferredState* to = std::exchange(state->chainedTo, nullptr)) {
    if (to != state) releaseWeak(to);
    else --state->weak;  // chainDeferred() to itself: deleted just below, once
  }
  if (--state->weak == 0) delete state;
}

void setChainedTo(DeferredState* state, DeferredState* target) noexcept {
  if (target != nullptr) ++target->weak;
  DeferredState* old = std::exchange(state->chainedTo, target);
  if (old != nullptr) releaseWeak(old);
}

// What cancel() fails a Deferred with: a copy of this one, which shares its
// message (as copies of a std::runtime_error do) instead of allocating it.
const CancelledError& cancelledError() {
  static const CancelledError prototype;
  return prototype;
}

// --- Chain stack ----------------------------------------------------------------

// The Deferreds whose results are being propagated (Twisted's `chain` list),
// shared by nested runs on this thread: each run works above its own base.
std::vector<DeferredState*>& chainStack() {
  thread_local std::vector<DeferredState*> stack;
  return stack;
}

struct ChainFrame {
  std::vector<DeferredState*>& stack;
  std::size_t base;
  ~ChainFrame() {
    while (stack.size() > base) {
      DeferredState* state = stack.back();
      stack.pop_back();
      releaseState(state);
    }
  }
};

// Moves `from`'s result into `to` (which was waiting on `from`), leaving
// null behind in `from` (the result is consumed).
void moveResult(DeferredState* from, DeferredState* to) noexcept {
  DeferredState* oldInner = std::exchange(to->inner, nullptr);
#if defined(DEFERRED_MUTANTS)
  if (DEFERRED_MUTANT("inner-not-consumed")) {
    to->kind = from->kind;
    if (from->kind == ResultKind::Failure) {
      to->failure = from->failure;
    } else {
      try {
        to->value = from->value.copy();
      } catch (...) {
        to->value = std::move(from->value);
      }
    }
    if (oldInner != nullptr) releaseState(oldInner);
    return;
  }
#endif
  to->kind = from->kind;
  to->value = std::move(from->value);
  to->failure = std::move(from->failure);
  from->kind = ResultKind::Value;
  from->value.reset();
  from->failureRecorded = false;
  if (oldInner != nullptr) releaseState(oldInner);
}

// `to` takes the result of `from`, whose handler is running with it as its
// argument. A result that cannot be copied, or that the handler took by
// value, becomes a TypeMismatchError.
void copyRunningResult(const DeferredState* from, DeferredState* to) noexcept {
  try {
    if (from->argumentOwnedByHandler) {
      throw TypeMismatchError(
          "the result of the Deferred returned by this handler belongs to a "
          "handler of that Deferred that is running and took it by value; "
          "take it by reference to share it");
    }
    if (from->inFlight != nullptr) {
      to->setValue(from->inFlight->copy());
    } else if (from->kind == ResultKind::Failure) {
      to->setFailure(Failure(from->failure));
    } else {
      to->setValue(from->value.copy());
    }
  } catch (...) {
    to->setFailure(Failure::current());
  }
}

}  // namespace

void logError(std::string_view context, const Failure& failure) noexcept {
  try {
    logSinkSlot()(context, failure);
  } catch (...) {
    // Logging is best effort: it must not turn a handled error into a new one.
  }
}

std::string DebugInfo::describe() const {
  std::string text;
  if (hasCreated) text = "created at " + where(created);
  if (hasCreated && hasFired) text += "; ";
  if (hasFired) text += "first fired at " + where(fired);
  return text;
}

// chainDeferred()'s callback and errback halves: fire `target` (Twisted's
// addCallbacks(d.callback, d.errback)). Named, so that the cycle check
// below can follow them; each counts itself in target's `chainedFrom`.
struct ChainHalf {
  Deferred target;
  explicit ChainHalf(Deferred d) noexcept : target(std::move(d)) {
    ++DeferredAccess::state(target)->chainedFrom;
  }
  ChainHalf(ChainHalf&& other) noexcept : target(std::move(other.target)) {}
  ChainHalf& operator=(ChainHalf&&) = delete;
  ~ChainHalf() { cut(); }
  // Drops the reference to `target` (the step stays, inert).
  void cut() noexcept {
    if (DeferredState* t = DeferredAccess::state(target)) {
      --t->chainedFrom;
      Deferred gone(std::move(target));
    }
  }
};
struct ChainCallback : ChainHalf {
  using ChainHalf::ChainHalf;
  void operator()(Value result) { target.callback(std::move(result)); }
};
struct ChainErrback : ChainHalf {
  using ChainHalf::ChainHalf;
  void operator()(Failure failure) { target.errback(std::move(failure)); }
};

// --- Waiting cycles -------------------------------------------------------------

// A Deferred waiting on another holds it (its result is that Deferred), and
// the other holds the waiting one (the Continuation step that will resume
// it): a reference cycle, which Python's garbage collector breaks when
// nothing else refers to it. So does this, for the cycles built from the
// library's own links: waiting, chainDeferred, a DeferredList member's step,
// which holds the list, a suspended coroutine's resuming step, whose frame
// holds the coroutine's Deferred, run()'s step that releases a semaphore,
// and the line of acquire()s of a semaphore
// or get()s of a DeferredQueue, where the semaphore or queue is itself a
// result (what acquire() fires with, or any value). When
// a reference to a Deferred in such a relationship is dropped, what is
// reachable from it through these links is examined as CPython's collector
// does: anything with a reference from elsewhere (a handle, a handler's
// capture, a running chain) is alive, and so is everything it reaches; the
// rest is unreachable and destroyed.
namespace {

// A Deferred's references that may come from links: Deferreds waiting on
// it, the Continuation steps holding it, for a DeferredList its ListState,
// chainDeferred halves, a suspended frame, a semaphore's or queue's line.
unsigned possibleLinks(const DeferredState* state) noexcept {
  return state->waiters + state->heldByContinuations +
         (state->isList ? 1u : 0u) + state->chainedFrom +
         (state->heldBySuspendedFrame ? 1u : 0u) + (state->heldInQueue ? 1u : 0u);
}

bool& collecting() {
  thread_local bool active = false;
  return active;
}

ChainHalf* chainHalf(Handler& h) noexcept {
  using Callback = HandlerAdapter<ChainCallback, Sees::values>;
  using Errback = HandlerAdapter<ChainErrback, Sees::failures>;
  if (h.holds<Callback>()) return &h.target<Callback>()->handler;
  if (h.holds<Errback>()) return &h.target<Errback>()->handler;
  return nullptr;
}

using QueueState = DeferredQueue::State;

// What a link leads to: exactly one of the pointers is set.
struct LinkEnd {
  DeferredState* deferred = nullptr;
  ListState* list = nullptr;
  TokenPool* pool = nullptr;
  QueueState* queue = nullptr;
  long handles = 0;  // for a pool or queue: its shared_ptr's use count

  // A semaphore's or queue's state, from any handle (shared or weak) on it.
  template <class Handle>
  static LinkEnd of(const Handle& handle) noexcept {
    LinkEnd end;
    end.handles = handle.use_count();
    if constexpr (requires { handle.get(); }) {
      set(end, handle.get());
    } else {
      set(end, handle.lock().get());  // alive: a line holding its waiter
    }
    return end;
  }
  static void set(LinkEnd& end, TokenPool* p) noexcept { end.pool = p; }
  static void set(LinkEnd& end, QueueState* q) noexcept { end.queue = q; }

  const void* key() const noexcept {
    if (deferred != nullptr) return deferred;
    if (list != nullptr) return list;
    if (pool != nullptr) return pool;
    return queue;
  }
  // All the references to it, from links or elsewhere.
  long references() const noexcept {
    if (deferred != nullptr) return deferred->strong;
    if (list != nullptr) return list->references;
    return handles;
  }
  // The Deferreds waiting in its line, for a semaphore or a queue.
  std::deque<Deferred>* line() const noexcept {
    if (pool != nullptr) return &pool->waiting;
    if (queue != nullptr) return &queue->waiting;
    return nullptr;
  }
};

enum class Link {
  owning,   // holds a reference to its end
  waiting,  // owning, with an owning twin back (waiting on / waited on)
  reaches,  // no reference: a DeferredList's weak hold on a member, a
            // waiter's on its line, so that exploring from the list or the
            // waiter finds the cycles through them
};

struct LinkGraph {
  struct Node {
    LinkEnd end;
    long linkedFrom = 0;  // references from other nodes' links
    bool alive = false;
  };
  std::unordered_map<const void*, std::size_t> index;
  std::vector<Node> nodes;

  std::size_t add(LinkEnd end) {
    auto [it, fresh] = index.try_emplace(end.key(), nodes.size());
    if (fresh) nodes.push_back(Node{end});
    return it->second;
  }

  // Calls f for the semaphore or queue `v` is, if it is one.
  static void primitiveLink(const Value& v, auto& f) {
    if (const std::shared_ptr<TokenPool>* pool = LockAccess::heldPool(v)) {
      f(LinkEnd::of(*pool), Link::owning);
    } else if (const std::shared_ptr<QueueState>* queue = QueueAccess::heldQueue(v)) {
      f(LinkEnd::of(*queue), Link::owning);
    }
  }

  // The semaphores and queues `root` holds: itself, or inside the library's
  // own containers of results (gatherResults', DeferredList's,
  // fireOnOneCallback's), however nested. Other values are opaque.
  static void valueLink(const Value& root, auto& f) {
    if (!root.is<ValueList>() && !root.is<ListResult>() && !root.is<FirstResult>()) {
      primitiveLink(root, f);
      return;  // the common case, without allocating
    }
    std::vector<const Value*> todo{&root};
    while (!todo.empty()) {
      const Value& v = *todo.back();
      todo.pop_back();
      if (const ValueList* values = v.getIf<ValueList>()) {
        for (const Value& item : *values) todo.push_back(&item);
      } else if (const ListResult* entries = v.getIf<ListResult>()) {
        for (const ListEntry& entry : *entries) todo.push_back(&entry.result);
      } else if (const FirstResult* first = v.getIf<FirstResult>()) {
        todo.push_back(&first->result);
      } else {
        primitiveLink(v, f);
      }
    }
  }

  template <class State>
  static void lineLink(const std::weak_ptr<State>& line, auto& f) {
    if (!line.expired()) f(LinkEnd::of(line), Link::reaches);
  }

  // Calls f(end, link) for each link out of `from`.
  template <class F>
  static void forEachLink(LinkEnd from, F&& f) {  // a copy: f may grow `nodes`
    if (std::deque<Deferred>* line = from.line()) {
      for (const Deferred& waiter : *line) f(LinkEnd{DeferredAccess::state(waiter)}, Link::owning);
      if (from.queue != nullptr) {
        for (const Value& v : from.queue->pending) valueLink(v, f);
      }
      return;
    }
    if (from.list != nullptr) {
      if (DeferredState* target = DeferredAccess::state(from.list->list)) {
        f(LinkEnd{target}, Link::owning);
      }
      for (const ListEntry& entry : from.list->results) valueLink(entry.result, f);
      return;
    }
    DeferredState* s = from.deferred;
    if (s->kind == ResultKind::Deferred && s->inner != nullptr) f(LinkEnd{s->inner}, Link::waiting);
    if (s->kind == ResultKind::Value) valueLink(s->value, f);
    if (s->isList && s->canceller.holds<CancelMembers>()) {
      for (const WeakDeferred& member : s->canceller.target<CancelMembers>()->members) {
        if (DeferredState* m = member.peek()) f(LinkEnd{m}, Link::reaches);
      }
    }
    if (s->heldInQueue) {  // its canceller knows the line, weakly
      if (s->canceller.holds<LeaveLine<TokenPool>>()) {
        lineLink(s->canceller.target<LeaveLine<TokenPool>>()->state, f);
      } else if (s->canceller.holds<LeaveLine<QueueState>>()) {
        lineLink(s->canceller.target<LeaveLine<QueueState>>()->state, f);
      }
    }
    s->steps.forEachPending([&](Step& step) {
      if (step.callback.holds<Continuation>()) {
        if (DeferredState* waiting = step.callback.target<Continuation>()->chainee) {
          // A pair only while it still waits on this one (unpaused by hand,
          // it may have moved on and left the step behind).
          f(LinkEnd{waiting}, waiting->kind == ResultKind::Deferred && waiting->inner == s
                                  ? Link::waiting
                                  : Link::owning);
        }
      } else if (step.callback.holds<MemberStep>()) {
        f(LinkEnd{nullptr, &*step.callback.target<MemberStep>()->state}, Link::owning);
      } else if (ChainHalf* half = chainHalf(step.callback)) {
        if (DeferredState* t = DeferredAccess::state(half->target)) f(LinkEnd{t}, Link::owning);
      } else if (DeferredState* frameHeld = suspendedCoroutineDeferred(step.callback)) {
        f(LinkEnd{frameHeld}, Link::owning);
      } else if (step.callback.holds<HandlerAdapter<ReleaseAfter, Sees::both>>()) {
        f(LinkEnd::of(step.callback.target<HandlerAdapter<ReleaseAfter, Sees::both>>()->handler.pool),
          Link::owning);
      }
      if (ChainHalf* half = chainHalf(step.errback)) {
        if (DeferredState* t = DeferredAccess::state(half->target)) f(LinkEnd{t}, Link::owning);
      }
    });
  }

  // Everything reachable from `start` through links, with the references
  // the links account for. Returns false as soon as `start` is known to be
  // alive: a Deferred joined to it by waiting links alone (they come in
  // pairs, so it reaches `start` back) is referenced from elsewhere.
  bool explore(DeferredState* start) {
    add(LinkEnd{start});
    std::vector<bool> byWaiting{true};  // reached from `start` by waiting links only
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const bool waitingPath = byWaiting[i];
      bool startAlive = false;
      forEachLink(nodes[i].end, [&](LinkEnd end, Link link) {
        const std::size_t before = nodes.size();
        const std::size_t j = add(end);
        if (link != Link::reaches) ++nodes[j].linkedFrom;
        if (j != before) return;
        byWaiting.push_back(waitingPath && link == Link::waiting);
        if (byWaiting.back() && end.deferred->strong > possibleLinks(end.deferred)) startAlive = true;
      });
      if (startAlive) return false;
    }
    return true;
  }

  // Marks alive what is referenced from outside and what that holds.
  void markAlive() {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].end.references() > nodes[i].linkedFrom) todo.push_back(i);
    }
    while (!todo.empty()) {
      Node& n = nodes[todo.back()];
      todo.pop_back();
      if (n.alive) continue;
      n.alive = true;
      forEachLink(n.end, [&](LinkEnd end, Link link) {
        if (link == Link::reaches) return;
        std::size_t j = index.at(end.key());
        if (!nodes[j].alive) todo.push_back(j);
      });
    }
  }
};

// Collections started while the garbage of another one is being released.
// Bounded: a link the cut missed would otherwise have each collection find
// the same garbage again, without end; past the bound it stays (a leak,
// which the sanitizer builds report, rather than a stack overflow).
constexpr int kMaxNestedCollections = 200;

int& nestedCollections() {
  thread_local int depth = 0;
  return depth;
}

struct NestedCollection {
  NestedCollection() noexcept { ++nestedCollections(); }
  ~NestedCollection() { --nestedCollections(); }
  NestedCollection(const NestedCollection&) = delete;
  NestedCollection& operator=(const NestedCollection&) = delete;
};

void collectIfUnreachable(DeferredState* start) noexcept {
  if (start->strong > possibleLinks(start) || collecting()) return;
  if (nestedCollections() >= kMaxNestedCollections) [[unlikely]] return;
  NestedCollection nested;
  try {
    LinkGraph graph;
    if (!graph.explore(start)) return;
    graph.markAlive();
    std::vector<DeferredState*> garbage;
    std::vector<std::deque<Deferred>*> garbageLines;
    for (const LinkGraph::Node& n : graph.nodes) {
      if (n.alive) continue;
      if (n.end.deferred != nullptr) garbage.push_back(n.end.deferred);
      if (std::deque<Deferred>* line = n.end.line()) garbageLines.push_back(line);
    }
    if (garbage.empty()) return;
    // Cut the waiting, chainDeferred and queue links of the unreachable,
    // then let them go: destroying them drops the member steps, and with
    // them the lists and what the lists recorded.
    collecting() = true;
    for (DeferredState* s : garbage) retain(s);
    std::vector<std::deque<Deferred>> lines;
    lines.reserve(garbageLines.size());
    for (std::deque<Deferred>* line : garbageLines) {
      for (Deferred& waiter : *line) DeferredAccess::state(waiter)->heldInQueue = false;
      lines.push_back(std::exchange(*line, {}));
    }
    std::vector<Handler> frames;  // suspended coroutines' resuming steps
    for (DeferredState* s : garbage) {
      if (s->kind == ResultKind::Deferred) {
        DeferredState* inner = std::exchange(s->inner, nullptr);
        s->kind = ResultKind::None;
        if (inner != nullptr) releaseState(inner);
      }
      s->waiters = 0;
      s->steps.forEachPending([&frames](Step& step) {
        if (step.callback.holds<Continuation>()) {
          if (DeferredState* waiting = step.callback.target<Continuation>()->release())
            releaseState(waiting);
        } else if (suspendedCoroutineDeferred(step.callback) != nullptr) {
          frames.push_back(std::move(step.callback));  // e.g. a coroutine awaiting itself
        }
        if (ChainHalf* half = chainHalf(step.callback)) half->cut();
        if (ChainHalf* half = chainHalf(step.errback)) half->cut();
      });
    }
    lines.clear();
    collecting() = false;
    frames.clear();  // the frames go, and their hold on the coroutines' Deferreds
    for (DeferredState* s : garbage) releaseState(s);
  } catch (const std::bad_alloc&) {
    collecting() = false;  // no memory to look: keep them (a leak, not a crash)
  }
}

}  // namespace

void suspectCycle(DeferredState* state) noexcept {
  Graveyard& yard = graveyard();
  if (!yard.active) {
    collectIfUnreachable(state);
    return;
  }
  try {
    yard.suspects.push_back(state);
    ++state->weak;
  } catch (const std::bad_alloc&) {
    // Not checked: a cycle there would leak, nothing worse.
  }
}

void settleRelease(DeferredState* state) noexcept {
  if (state->strong != 0) {  // still referenced, perhaps only from a cycle
    suspectCycle(state);
    return;
  }
  Graveyard& yard = graveyard();
  if (yard.active) {
    yard.queue.push_back(state);
    return;
  }
  yard.active = true;
  dispose(state);
  while (!yard.queue.empty()) {
    DeferredState* next = yard.queue.back();
    yard.queue.pop_back();
    dispose(next);
  }
  yard.active = false;
  while (!yard.suspects.empty()) {
    DeferredState* suspect = yard.suspects.back();
    yard.suspects.pop_back();
    if (!suspect->dead && mayBeInCycle(suspect)) collectIfUnreachable(suspect);
    releaseWeak(suspect);
  }
}

void freeState(DeferredState* state) noexcept { delete state; }

Failure mismatchFailure(const std::type_info& expected,
                        const DeferredState& state) {
  std::string actual;
  if (state.kind == ResultKind::Failure) {
    actual = "deferred::Failure (" + state.failure.toString() + ")";
  } else {
    actual = state.value.typeName();
  }
  return Failure(TypeMismatchError("handler expected " + typeName(expected) +
                                   " but the result is " + actual));
}

void FailureCapture::current(DeferredState& state,
                             const std::exception& error) {
  if (DEFERRED_MUTANT("handler-raise-is-null")) return state.setNull();
  state.setFailure(FailureAccess::fromCaught(error));
}

void FailureCapture::currentUnknown(DeferredState& state) {
  if (DEFERRED_MUTANT("handler-raise-is-null")) return state.setNull();
  state.setFailure(FailureAccess::fromCaughtUnknown());
}

namespace {

// The end of a pass over a Deferred's steps that ran them all, or left it
// waiting.
void endPass(DeferredState* current) noexcept {
  current->steps.resetIfDrained();
  current->failureRecorded = current->kind == ResultKind::Failure;
}

// A Continuation step was reached: gives `current`'s result to the Deferred
// waiting on it and returns that one, with the step's reference.
[[gnu::noinline]] DeferredState* resumeWaiting(DeferredState* current,
                                               Step* step) noexcept {
  DeferredState* chainee = step->callback.target<Continuation>()->release();
  StepQueue::finish(step);
  --current->waiters;
  moveResult(current, chainee);
  --chainee->paused;
  current->steps.resetIfDrained();
  return chainee;
}

// A handler of `current` returned a Deferred: takes its result, or makes
// `current` wait for it (returns true then).
[[gnu::noinline]] bool takeInnerResult(DeferredState* current) {
  DeferredState* inner = current->inner;
  if (inner == current) {
    current->setFailure(Failure(SelfChainError()));
  } else if (!inner->called || inner->kind == ResultKind::Deferred ||
             inner->paused != 0) {
    // No result yet: wait for it.
    ++current->paused;
    setChainedTo(current, inner);
    Step continuation;
    continuation.callback = Handler(Continuation(current));
    inner->steps.push(std::move(continuation));
    ++inner->waiters;
    return true;
  } else if (inner->running) {
    // Its handler is running with that result as argument: Twisted gives
    // both the same object; we give this chain a copy.
    current->inner = nullptr;
    copyRunningResult(inner, current);
    releaseState(inner);
  } else {
    // It has a result: take it.
    current->inner = nullptr;
    moveResult(inner, current);
    releaseState(inner);
  }
  return false;
}

// One pass over `current`'s steps (the inner loop of Twisted's
// _runCallbacks): runs them in order until none is left or `current` waits
// on a Deferred a handler returned. Returns the Deferred waiting on
// `current` that a Continuation step gives the result to, with the step's
// reference, when that one must run first; nullptr when `current` is done.
// The rare cases are out of line (resumeWaiting, takeInnerResult), so that
// the common pass stays small.
DeferredState* runSteps(DeferredState* current) {
  if (current->chainedTo != nullptr) setChainedTo(current, nullptr);

  while (Step* step = current->steps.take()) {
    if (step->callback.holds<Continuation>()) {
      if (step->callback.target<Continuation>()->chainee == nullptr) [[unlikely]] {
        // Cut by the cycle collector: the waiting Deferred is being freed.
        StepQueue::finish(step);
        continue;
      }
      return resumeWaiting(current, step);
    }

    Handler& handler = current->kind == ResultKind::Failure
                           ? (step->both ? step->callback : step->errback)
                           : step->callback;
    if (handler) {
      // Steps never move, and the `running` guard keeps any other run of
      // this Deferred away, so the handler runs in place.
      current->running = true;
#if defined(DEFERRED_MUTANTS)
      std::optional<Failure> mutantSaved;
      if (DEFERRED_MUTANT("errback-no-recovery") &&
          current->kind == ResultKind::Failure) {
        mutantSaved = current->failure;
      }
#endif
      handler(*current);
#if defined(DEFERRED_MUTANTS)
      if (mutantSaved && current->kind == ResultKind::Value) {
        current->setFailure(std::move(*mutantSaved));
      }
#endif
      current->running = false;
    }
    StepQueue::finish(step);  // releases the captures now

    if (current->kind == ResultKind::Deferred && takeInnerResult(current)) break;
  }

  endPass(current);
  return nullptr;
}

// A reference to a state, released at the end of the scope.
struct Hold {
  DeferredState* state;
  ~Hold() {
    if (state != nullptr) releaseState(state);
  }
};

// The rest of a run whose first Deferred, `self`, handed its result to
// `waiting`: Twisted's `chain`, a stack of Deferreds whose results are being
// propagated, each with its own cursor over its steps. Takes a reference to
// each. Out of line, so that the common run stays small.
[[gnu::noinline]] void runChain(DeferredState* self, DeferredState* waiting) {
  std::vector<DeferredState*>& chain = chainStack();
  ChainFrame frame{chain, chain.size()};
  Hold heldSelf{self};
  Hold heldWaiting{waiting};
  chain.push_back(self);
  heldSelf.state = nullptr;  // the chain holds it now
  chain.push_back(waiting);
  heldWaiting.state = nullptr;

  while (chain.size() > frame.base) {
    DeferredState* current = chain.back();
    if (current->paused != 0) return;  // those waiting on it keep waiting
    if (DeferredState* next = runSteps(current)) {
      Hold adopted{next};
      chain.push_back(next);
      adopted.state = nullptr;
    } else {
      chain.pop_back();
      releaseState(current);
    }
  }
}

}  // namespace

// Twisted's Deferred._runCallbacks, iteratively. Most runs concern one
// Deferred alone; only resuming a Deferred that waits on it needs more
// (runChain).
void runCallbacks(DeferredState* self) {
  // Already running further up the call stack; or paused: those waiting on
  // it keep waiting.
  if (self->running || self->paused != 0) return;
  if (self->steps.size() == 0) {  // a Deferred fired with nothing to run
    if (self->chainedTo != nullptr) setChainedTo(self, nullptr);
    endPass(self);
    return;
  }

  retain(self);
  Hold held{self};
  if (DeferredState* waiting = runSteps(self)) {
    held.state = nullptr;
    runChain(self, waiting);
  }
}

Deferred deferredFromValue(Value&& value) {
  // A Value holding a Deferred is that Deferred (maybeDeferred returns it as is).
  if (Deferred* inner = value.getIf<Deferred>()) {
    if (DEFERRED_MUTANT("maybe-deferred-wraps")) {
      Deferred wrapper;
      Deferred(std::move(*inner)).chainDeferred(wrapper);
      return wrapper;
    }
    return std::move(*inner);
  }
  Deferred d;
  d.callback(std::move(value));
  return d;
}

}  // namespace deferred::detail

namespace deferred {

using detail::DeferredState;
using detail::ResultKind;
using detail::StepQueue;

Deferred::Deferred(std::source_location where) : state_(new DeferredState) {
  if (detail::debugMode.load(std::memory_order_relaxed)) {
    state_->debug = std::make_unique<detail::DebugInfo>();
    state_->debug->created = where;
    state_->debug->hasCreated = true;
  }
}

void Deferred::startRun(Value* value, Failure* failure,
                        const std::source_location& where) {
  DeferredState* s = state_;
  if (s->called) {
    if (s->suppressAlreadyCalled) {
      s->suppressAlreadyCalled = false;
      return;
    }
    if (DEFERRED_MUTANT("already-called-ignored")) return;
    if (s->debug && detail::debugMode.load(std::memory_order_relaxed)) {
      throw AlreadyCalledError("Deferred has already been called (" +
                               s->debug->describe() + "); called again at " +
                               detail::where(where));
    }
    throw AlreadyCalledError();
  }
  s->called = true;
  // As Twisted: the first firing is recorded if debug mode is on now.
  if (detail::debugMode.load(std::memory_order_relaxed)) [[unlikely]] {
    if (!s->debug) s->debug = std::make_unique<detail::DebugInfo>();
    s->debug->fired = where;
    s->debug->hasFired = true;
  }
  if (failure != nullptr) {
    s->setFailure(std::move(*failure));
  } else {
    s->setValue(std::move(*value));
  }
  detail::runCallbacks(s);
}

void Deferred::callback(Value result, std::source_location where) {
  switch (detail::ValueAccess::special(result)) {
    case 1: {
      Failure failure =
          std::move(detail::ValueAccess::unchecked<Failure>(result));
      startRun(nullptr, &failure, where);
      return;
    }
    case 2:
      throw NestedDeferredError();
    default:
      startRun(&result, nullptr, where);
  }
}

void Deferred::errback(Failure failure, std::source_location where) {
  startRun(nullptr, &failure, where);
}

void Deferred::errback(std::source_location where) {
  errback(Failure::current(), where);
}

Deferred& Deferred::chainDeferred(Deferred other) {
  detail::setChainedTo(other.state_, state_);
  if (other.state_ == state_) {
    // Chained to itself (firing it again raises AlreadyCalledError, as in
    // Twisted): held weakly, so that it does not own itself. Its step only
    // runs while it is alive, so lock() always finds it.
    return addCallbacks(
        [self = detail::WeakDeferred(other)](Value result) {
          self.lock()->callback(std::move(result));
        },
        [self = detail::WeakDeferred(other)](Failure failure) {
          self.lock()->errback(std::move(failure));
        });
  }
  Deferred forErrors = other;
#if defined(DEFERRED_MUTANTS)
  if (DEFERRED_MUTANT("chain-deferred-keeps-result")) {
    return addCallbacks(
        [target = std::move(other)](Value result) mutable {
          Value kept = result.copy();
          target.callback(std::move(result));
          return kept;
        },
        [target = std::move(forErrors)](Failure failure) mutable {
          target.errback(Failure(failure));
          return failure;
        });
  }
#endif
  return addCallbacks(detail::ChainCallback(std::move(other)),
                      detail::ChainErrback(std::move(forErrors)));
}

void Deferred::pause() noexcept {
  if (DEFERRED_MUTANT("pause-ignored")) return;
  ++state_->paused;
}

void Deferred::unpause() {
  if (DEFERRED_MUTANT("pause-ignored")) return;
  --state_->paused;
  if (state_->paused != 0) return;
  if (DEFERRED_MUTANT("unpause-no-run")) return;
  if (state_->called) detail::runCallbacks(state_);
}

namespace {

// Marks a Deferred's canceller as running, so that a cancel() that comes
// back to it (a member waiting on its own DeferredList, a canceller
// cancelling its own Deferred) stops there instead of recursing for ever.
// Twisted recurses until RecursionError, which the DeferredList logs.
class CancellerRunning {
public:
  explicit CancellerRunning(DeferredState* s) noexcept : state_(s) { state_->cancelling = true; }
  ~CancellerRunning() { state_->cancelling = false; }
  CancellerRunning(const CancellerRunning&) = delete;
  CancellerRunning& operator=(const CancellerRunning&) = delete;

private:
  DeferredState* state_;
};

}  // namespace

void Deferred::cancel() {
  Deferred target = *this;
  // Trails `target` at half its speed along the same waiting links: they
  // meet only if those links go round in a circle (found by the scenario
  // fuzzer: two Deferreds each waiting on the other).
  DeferredState* trailing = state_;
  bool trailingMoves = false;
  // Forwarding to the Deferred we wait on is a tail call: loop instead.
  for (;;) {
    DeferredState* s = target.state_;
    if (s->cancelling) return;
    if (s->cancellerIsCancel && !s->called) {
      CancellerRunning running(s);
      s->canceller(target);
      return;
    }
    if (s->pendingOnlyCancel) return;
    if (!s->called) break;
    if (target.state_->kind != ResultKind::Deferred) return;
    if (DEFERRED_MUTANT("cancel-not-forwarded")) return;
    detail::retain(target.state_->inner);
    target = Deferred(Adopt{}, target.state_->inner);
    if (trailingMoves) trailing = trailing->inner;
    trailingMoves = !trailingMoves;
    if (target.state_ == trailing) return;
  }
  DeferredState* s = target.state_;
  if (s->canceller && !DEFERRED_MUTANT("canceller-skipped")) {
    CancellerRunning running(s);
    s->canceller(target);
  } else if (!DEFERRED_MUTANT("late-result-not-suppressed")) {
    // Eat the result the real operation will eventually deliver.
    s->suppressAlreadyCalled = true;
  }
  if (!s->called) target.errback(detail::cancelledError());
}

bool Deferred::called() const noexcept { return state_->called; }

bool Deferred::hasResult() const noexcept {
  return state_->called && state_->kind != ResultKind::Deferred;
}

bool Deferred::isFailure() const noexcept {
  return state_->kind == ResultKind::Failure;
}

bool Deferred::isWaiting() const noexcept {
  return state_->kind == ResultKind::Deferred;
}

int Deferred::paused() const noexcept { return state_->paused; }

const Value& Deferred::result() const noexcept {
  static const Value null;
  return state_->kind == ResultKind::Value ? state_->value : null;
}

const Failure* Deferred::failure() const noexcept {
  return state_->kind == ResultKind::Failure ? &state_->failure : nullptr;
}

std::optional<Deferred> Deferred::waitingOn() const {
  if (state_->kind != ResultKind::Deferred) return std::nullopt;
  detail::retain(state_->inner);
  return Deferred(Adopt{}, state_->inner);
}

std::optional<Deferred> Deferred::chainedTo() const {
  DeferredState* target = state_->chainedTo;
  if (target == nullptr || target->dead) return std::nullopt;
  detail::retain(target);
  return Deferred(Adopt{}, target);
}

std::size_t Deferred::pendingSteps() const noexcept {
  return state_->steps.size();
}

Deferred succeed(Value result, std::source_location where) {
  Deferred d(where);
  d.callback(std::move(result), where);
  return d;
}

Deferred fail(Failure failure, std::source_location where) {
  Deferred d(where);
  d.errback(std::move(failure), where);
  return d;
}

void setDebugging(bool on) noexcept {
  detail::debugMode.store(on, std::memory_order_relaxed);
}

bool debugging() noexcept {
  return detail::debugMode.load(std::memory_order_relaxed);
}

const std::string& unhandledErrorOrigin() noexcept {
  return detail::currentOrigin();
}

ErrorLogSink setErrorLogSink(ErrorLogSink sink) {
  ErrorLogSink previous = std::move(detail::logSinkSlot());
  detail::logSinkSlot() = sink ? std::move(sink) : ErrorLogSink(&detail::defaultLogSink);
  return previous;
}

UnhandledErrorSink setUnhandledErrorSink(UnhandledErrorSink sink) {
  UnhandledErrorSink previous = std::move(detail::sinkSlot());
  detail::sinkSlot() =
      sink ? std::move(sink) : UnhandledErrorSink(&detail::defaultSink);
  return previous;
}

}  // namespace deferred
