// The RecordBatch v2 codec: format constants, varints, batches, records and compression codecs.
export * from './batch-format.js';
export * from './varint.js';
export * from './compression.js';
export * from './record.js';
export * from './batch.js';
