/**
 * Loaded by path (`failureConverterPath`, see src/codec.ts) when payloads are encrypted: failure messages
 * and stack traces move into the failure's encoded attributes, a payload the codec encrypts — an
 * activity's error can name a recipient ("… is not an E.164 phone number"). Every reader (workflow
 * code, clients, the timeline) decodes encoded attributes whatever its own setting. Workflow-safe: a
 * replay worker bundles it.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
