export * from './catalogue.js';
export { isValidNhsNumber, nhsNumberCheckDigit } from './nhs-number.js';
export { isValidDate, parseDateTime } from './dates.js';
export {
  validatePublishInput,
  externalIdProblem,
  maxPublishItems,
  maxExternalIdLength,
  type RecordListName,
  type PublishItem,
  type PublishInput,
  type FieldValue,
  type ValidRecord,
  type ValidBatch,
} from './validate-publish-input.js';
export { publishRecords, type PublishOutcome, type PublishedRecord, type PublishRecordsOptions } from './publish-records.js';
export { retractRecords, maxRetractIds, type RetractedRecord, type RetractRecordsOptions } from './retract-records.js';
export {
  createRecordLoaders,
  ownerOnlyFilter,
  type RecordRow,
  type RecordFilter,
  type RecordLoaders,
  type CreateRecordLoadersOptions,
} from './record-loader.js';
