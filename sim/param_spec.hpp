// Parameters declared once and bound by type: a parameter struct lists its fields once, in a describe()
// that binds each field to its registry entry (name, range, unit, description, source; the default is the
// field's initial value), so that registration, reading, choice-to-enum parsing and cross-parameter checks
// all come from the same list and cannot drift apart.
//
//   struct JuntosParams {
//     double transfer_pen = 200.0;
//     JuntosRollout rollout = JuntosRollout::all_at_start;
//     template <class V> void describe(V& v);
//   };
//   template <class V> void JuntosParams::describe(V& v) {
//     v.real("juntos.transfer_pen", transfer_pen, {0, 100000}, "PEN per two months", "Base transfer...", "MIDIS...");
//     v.choice("juntos.rollout", rollout, kRolloutChoices, "How coverage reaches...", "Scenario choice");
//     v.constraint("juntos.x_below_y", [](const JuntosParams& p) -> std::optional<std::string> {...}, x, y);
//   }
//   declare_params<JuntosParams>(registry);           // registers the entries (defaults from JuntosParams{})
//   JuntosParams p = read_params<JuntosParams>(set);  // reads a resolved ParamSet into the struct
//
// describe() is a template over the visitor: ParamDeclarer registers, ParamReader reads. A describe() may
// call the describe() of a member struct (nested parameters) and loop over arrays (one entry per technology).
#pragma once

#include "sim/params.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace chacra {

// Inclusive bounds of a numeric parameter.
struct Bounds {
  double min, max;
};

// One entry of a choice parameter's table: the word a scenario writes and the enum value it stands for.
template <class E>
struct Choice {
  const char* name;
  E value;
};

// The word of an enum value in a choice table (logic_error if the table lacks it).
template <class E, std::size_t N>
const char* choice_name(const Choice<E> (&table)[N], E value) {
  for (const auto& c : table)
    if (c.value == value) return c.name;
  throw std::logic_error("an enum value is missing from its choice table");
}

namespace param_detail {
// The parameter type of a constraint's check (a lambda taking `const P&`).
template <class F> struct check_arg : check_arg<decltype(&F::operator())> {};
template <class C, class R, class A> struct check_arg<R (C::*)(A) const> {
  using type = std::remove_cvref_t<A>;
};
}  // namespace param_detail

template <class P> P read_params(const ParamSet& set);

// Registers every parameter a describe() declares. Defaults are the values of the struct it visits (a
// default-constructed one), so a field's initialiser is its default and is written nowhere else.
class ParamDeclarer {
 public:
  explicit ParamDeclarer(Registry& registry) : r_(registry) {}

  void real(const std::string& name, const double& field, Bounds b, const std::string& unit,
            const std::string& description, const std::string& source) {
    r_.real(name, field, b.min, b.max, unit, description, source);
    bind(name, &field);
  }
  template <std::integral I>
  void integer(const std::string& name, const I& field, Bounds b, const std::string& unit,
               const std::string& description, const std::string& source) {
    r_.integer(name, static_cast<std::int64_t>(field), static_cast<std::int64_t>(b.min),
               static_cast<std::int64_t>(b.max), unit, description, source);
    bind(name, &field);
  }
  // A whole number of years in the scenario, held in months by the struct (months = 12 * years).
  template <std::integral I>
  void years_as_months(const std::string& name, const I& months, Bounds years, const std::string& description,
                       const std::string& source) {
    if (months % 12 != 0)
      throw std::logic_error("parameter '" + name + "': default of " + std::to_string(months) +
                             " months is not a whole number of years");
    r_.integer(name, static_cast<std::int64_t>(months / 12), static_cast<std::int64_t>(years.min),
               static_cast<std::int64_t>(years.max), "years", description, source);
    bind(name, &months);
  }
  void boolean(const std::string& name, const bool& field, const std::string& description, const std::string& source) {
    r_.boolean(name, field, description, source);
    bind(name, &field);
  }
  // A choice read into an enum through its table (the scenario's words are the table's names, in order).
  template <class E, std::size_t N>
  void choice(const std::string& name, const E& field, const Choice<E> (&table)[N], const std::string& description,
              const std::string& source) {
    std::vector<std::string> words;
    for (const auto& c : table) words.emplace_back(c.name);
    r_.choice(name, choice_name(table, field), std::move(words), description, source);
    bind(name, &field);
  }
  // A choice kept as its word (no choices: any text).
  void choice(const std::string& name, const std::string& field, std::vector<std::string> choices,
              const std::string& description, const std::string& source) {
    r_.choice(name, field, std::move(choices), description, source);
    bind(name, &field);
  }
  void text_list(const std::string& name, const std::vector<std::string>& field, std::vector<std::string> allowed,
                 const std::string& description, const std::string& source) {
    r_.text_list(name, field, std::move(allowed), description, source);
    bind(name, &field);
  }
  // A parameter another struct declares (it must be registered first), read into this one too.
  template <class T>
  void borrow(const std::string& name, const T& field) {
    if (r_.find(name) == nullptr)
      throw std::logic_error("parameter '" + name + "' is read before the struct that declares it is registered");
    bind(name, &field);
  }
  // A rule over several parameters of one struct: `check(const P&)` returns an error text when violated;
  // `fields` are the members it reads (named in the error report).
  template <class Check, class... Fields>
  void constraint(const std::string& name, Check check, const Fields&... fields) {
    using P = typename param_detail::check_arg<Check>::type;
    std::vector<std::string> names;
    (names.push_back(name_of(name, &fields)), ...);
    r_.constraint({name, std::move(names), [check](const ParamSet& set) -> std::optional<std::string> {
                     return check(read_params<P>(set));
                   }});
  }

 private:
  void bind(const std::string& name, const void* field) { bound_.emplace_back(field, name); }
  const std::string& name_of(const std::string& constraint, const void* field) const {
    for (const auto& [address, name] : bound_)
      if (address == field) return name;
    throw std::logic_error("constraint '" + constraint + "' reads a field that no parameter declares before it");
  }
  Registry& r_;
  std::vector<std::pair<const void*, std::string>> bound_;  // field address -> parameter name
};

// Reads a resolved ParamSet into the struct a describe() visits. The set was validated against the same
// declarations, so a missing name, a wrong type or an unknown choice is a programming error (logic_error).
class ParamReader {
 public:
  explicit ParamReader(const ParamSet& set) : s_(set) {}

  void real(const std::string& name, double& field, Bounds, const std::string&, const std::string&,
            const std::string&) {
    field = s_.real(name);
  }
  template <std::integral I>
  void integer(const std::string& name, I& field, Bounds, const std::string&, const std::string&, const std::string&) {
    field = static_cast<I>(s_.integer(name));
  }
  template <std::integral I>
  void years_as_months(const std::string& name, I& months, Bounds, const std::string&, const std::string&) {
    months = static_cast<I>(s_.integer(name) * 12);
  }
  void boolean(const std::string& name, bool& field, const std::string&, const std::string&) {
    field = s_.boolean(name);
  }
  template <class E, std::size_t N>
  void choice(const std::string& name, E& field, const Choice<E> (&table)[N], const std::string&, const std::string&) {
    const std::string& word = s_.choice(name);
    for (const auto& c : table) {
      if (word == c.name) {
        field = c.value;
        return;
      }
    }
    throw std::logic_error("parameter '" + name + "': '" + word + "' is not one of its choices");
  }
  void choice(const std::string& name, std::string& field, const std::vector<std::string>&, const std::string&,
              const std::string&) {
    field = s_.choice(name);
  }
  void text_list(const std::string& name, std::vector<std::string>& field, const std::vector<std::string>&,
                 const std::string&, const std::string&) {
    field = s_.text_list(name);
  }
  void borrow(const std::string& name, double& field) { field = s_.real(name); }
  template <std::integral I>
  void borrow(const std::string& name, I& field) {
    field = static_cast<I>(s_.integer(name));
  }
  void borrow(const std::string& name, bool& field) { field = s_.boolean(name); }
  template <class Check, class... Fields>
  void constraint(const std::string&, Check, const Fields&...) {}

 private:
  const ParamSet& s_;
};

// Registers the parameters of P (its describe()), with P's initial values as defaults.
template <class P>
void declare_params(Registry& registry) {
  P defaults{};
  ParamDeclarer declarer(registry);
  defaults.describe(declarer);
}

// The values of P's parameters in a resolved set.
template <class P>
P read_params(const ParamSet& set) {
  P p{};
  ParamReader reader(set);
  p.describe(reader);
  return p;
}

}  // namespace chacra
