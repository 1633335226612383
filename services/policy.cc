// The authorization policy at the services' edge: see policy.h.
#include "services/policy.h"

#include <string>

#include "engine/text.h"

namespace grid::services {
namespace {

// Keeps the first code point of a name and masks the rest.
std::string MaskName(const std::string& name) {
  if (name.empty()) return name;
  size_t first = 1;
  while (first < name.size() && (static_cast<unsigned char>(name[first]) & 0xC0) == 0x80) ++first;
  size_t rest = text::CodePointCount(std::string_view(name).substr(first));
  return name.substr(0, first) + std::string(rest, '*');
}

// Keeps the first three and last four digits.
std::string MaskPhone(const std::string& phone) {
  if (phone.size() <= 7) return std::string(phone.size(), '*');
  return phone.substr(0, 3) + std::string(phone.size() - 7, '*') + phone.substr(phone.size() - 4);
}

}  // namespace

policy::Role PolicyRole(Role role) {
  switch (role) {
    case Role::kCallCenter: return policy::Role::kCallCenter;
    case Role::kGridWorker: return policy::Role::kGridWorker;
    case Role::kDepartment: return policy::Role::kDepartment;
    case Role::kSupervisor: return policy::Role::kSupervisor;
    case Role::kTownOffice: return policy::Role::kTownOffice;
    case Role::kAdmin: return policy::Role::kAdmin;
  }
  return policy::Role::kTownOffice;  // not reached; the role that may least
}

policy::Caller CallerOf(const Principal& p) { return policy::Caller{p.id, PolicyRole(p.role), p.scope}; }

Status AdmitRole(const Principal& p, policy::Rpc rpc) { return policy::AdmitRole(PolicyRole(p.role), rpc); }

Status AdmitUnit(const Principal& p, const Directory& directory, policy::Rpc rpc, std::string_view unit_code) {
  return policy::AdmitUnit(directory, CallerOf(p), rpc, unit_code);
}

Status AdmitCase(const Principal& p, const Directory& directory, policy::Rpc rpc, const grid::v1::Case& c) {
  return policy::AdmitCase(directory, CallerOf(p), rpc, c);
}

bool SeesCitizen(const Principal& p) { return policy::InfoOf(PolicyRole(p.role)).sees_citizen; }

void MaskCitizen(const Principal& p, grid::v1::Case* c) {
  if (SeesCitizen(p)) return;
  auto* citizen = c->mutable_citizen();
  citizen->set_name(MaskName(citizen->name()));
  citizen->set_phone(MaskPhone(citizen->phone()));
}

bool SeesMemberContacts(const Principal& p) { return policy::InfoOf(PolicyRole(p.role)).sees_member_contacts; }

void MaskMember(const Principal& p, grid::v1::Member* m) {
  if (SeesMemberContacts(p)) return;
  m->set_name(MaskName(m->name()));
  m->set_phone(MaskPhone(m->phone()));
}

}  // namespace grid::services
