/**
 * The GraphQL operations the DPO console sends, kept here (not in the browser script) so that a
 * test validates each against the schema and the operation limits: the console cannot drift from
 * the API it reads. The page hands them to its script as JSON.
 */

const caller = 'me { subject roles organisation { id name } }';

const eventScalars = `seq id at requestId actorOrg actorUser actorRoles purpose caseRef action ownerOrg nhsNumber
      outcome operationName queryHash sensitivity details prevHash hash`;

/**
 * Each event lists the records it concerns (CONTRACT §7), with what was released and withheld of
 * each and under which agreements. A page of events carries the agreements' payload hashes. The
 * subject access report leaves them out: its list is costed at more events than a page, and
 * the agreement id and version identify the signed text just as well.
 */
const eventFields = `${eventScalars} records { recordType recordId fields withheld agreements { id version payloadHash } }`;
const reportFields = `${eventScalars} records { recordType recordId fields withheld agreements { id version } }`;

export const dpoConsoleOperations = Object.freeze({
  integrity: `query DpoConsoleIntegrity {
  ${caller}
  auditIntegrity { headSeq headHash verifiedUpTo intact problem lastCheckpoint { seq hash at kid } }
}`,
  auditEvents: `query DpoConsoleAuditEvents($filter: AuditFilter, $first: Int, $after: String) {
  ${caller}
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${eventFields} } }
    pageInfo { hasNextPage endCursor }
  }
}`,
  subjectAccessReport: `query DpoConsoleSubjectAccess($nhsNumber: NHSNumber!) {
  ${caller}
  subjectAccessReport(nhsNumber: $nhsNumber) { ${reportFields} }
}`,
});

export type DpoConsoleOperationName = keyof typeof dpoConsoleOperations;
