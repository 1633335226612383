// The authorization policy at the services' edge: the principal of a call
// (auth.h) seen as a policy::Caller, the checks every handler makes with it,
// and the masking of citizen and member data for roles that do not see them.
// The decisions themselves are engine/policy.h's table; docs/security.md
// "Authorization policy" shows it.
//
// A handler calls Admit (service_deps.h) for the role, then AdmitUnit for the
// unit its request names, or AdmitCase for the case it reads. Case-work
// commands are admitted by the case writer's Lifecycle::Apply on the stored
// case, with the same table.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "engine/directory.h"
#include "engine/policy.h"
#include "engine/status.h"
#include "grid/v1/case.pb.h"
#include "grid/v1/directory.pb.h"
#include "services/auth.h"

namespace grid::services {

policy::Role PolicyRole(Role role);
// REQUIRES: `principal` outlives the result.
policy::Caller CallerOf(const Principal& principal);

// PERMISSION_DENIED ROLE_NOT_ALLOWED when the role may not call `rpc` at all.
Status AdmitRole(const Principal& principal, policy::Rpc rpc);
// ROLE_NOT_ALLOWED, or OUT_OF_SCOPE when the role's rule for `rpc` does not
// hold for the unit the request names ("": names none) or the stored case.
Status AdmitUnit(const Principal& principal, const Directory& directory, policy::Rpc rpc, std::string_view unit_code);
Status AdmitCase(const Principal& principal, const Directory& directory, policy::Rpc rpc, const grid::v1::Case& c);

// Whether the role sees citizens as stored (policy::kRoles).
bool SeesCitizen(const Principal& principal);
// Masks the citizen's name and phone for roles that do not see them:
// "张*", "138****5678". RevealCitizen is their audited way to the data.
void MaskCitizen(const Principal& principal, grid::v1::Case* c);

// Whether the role sees members' names and phones in directory reads.
bool SeesMemberContacts(const Principal& principal);
// Masks a member's name and phone for roles that do not see them.
void MaskMember(const Principal& principal, grid::v1::Member* m);

}  // namespace grid::services
