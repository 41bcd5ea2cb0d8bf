// A Fetch response whose records are FileRegions: the parts keep their order (bytes, region,
// region, bytes, ...), never two Buffers in a row; the frame's size prefix and each partition's
// records length prefix count the region bytes; and once the regions are replaced by the file's
// bytes (what sendfile puts on the wire) the frame decodes to the right records.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileRegion } from '../../src/native/binding.js';
import { decodeResponse, encodeRequest, encodeResponse, isFileRegion, ProtocolError, type ResponseParts } from '../../src/protocol/index.js';

let directory: string;
let fd: number;
const fileBytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff));

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-protocol-'));
  const path = join(directory, '00000000000000000000.log');
  writeFileSync(path, fileBytes);
  fd = openSync(path, 'r');
});

afterAll(() => {
  closeSync(fd);
  rmSync(directory, { recursive: true, force: true });
});

/** What the socket receives: Buffers as they are, regions read from the file. */
function materialize(parts: ResponseParts): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      if (!isFileRegion(part)) return part;
      const bytes = Buffer.alloc(part.count);
      expect(readSync(part.fd, bytes, 0, part.count, part.position)).toBe(part.count);
      return bytes;
    }),
  );
}

function partsBytes(parts: ResponseParts): number {
  return parts.reduce((sum, part) => sum + (isFileRegion(part) ? part.count : part.length), 0);
}

describe('Fetch response with FileRegion records', () => {
  for (const version of [4, 11, 12, 16]) {
    it(`v${version}: prefixes count region bytes, parts order is preserved, the wire bytes decode`, () => {
      const regionA: FileRegion = { fd, position: 100, count: 700 };
      const regionB: FileRegion = { fd, position: 2000, count: 1500 };
      const regionC: FileRegion = { fd, position: 0, count: 64 };
      const inline = Buffer.from('an inline batch');
      const header = { apiKey: 1, apiVersion: version, correlationId: 99, clientId: 'consumer' };
      const topic = version >= 13 ? { topicId: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' } : { topic: 'orders' };
      const parts = encodeResponse(header, {
        responses: [
          {
            ...topic,
            partitions: [
              { partitionIndex: 0, highWatermark: 10, records: [regionA, regionB] },
              { partitionIndex: 1, highWatermark: 5, records: inline },
              { partitionIndex: 2, highWatermark: 7, records: regionC },
              { partitionIndex: 3, highWatermark: 0, records: null },
            ],
          },
        ],
      });

      // Order: bytes, A, B, bytes (with the inline batch inside), C, bytes.
      expect(parts.map((part) => (isFileRegion(part) ? part : 'bytes'))).toEqual(['bytes', regionA, regionB, 'bytes', regionC, 'bytes']);
      for (let i = 1; i < parts.length; i++) expect(Buffer.isBuffer(parts[i]) && Buffer.isBuffer(parts[i - 1])).toBe(false);

      // The size prefix counts every byte after itself, regions included.
      const first = parts[0] as Buffer;
      expect(first.readInt32BE(0)).toBe(partsBytes(parts) - 4);

      // The records length prefix just before region A counts A + B.
      if (version >= 12) {
        // uvarint(2200 + 1) = 0x99 0x11
        expect([...first.subarray(first.length - 2)]).toEqual([0x99, 0x11]);
      } else {
        expect(first.readInt32BE(first.length - 4)).toBe(regionA.count + regionB.count);
      }

      const wire = materialize(parts);
      const decoded = decodeResponse(header, wire.subarray(4));
      expect(decoded.correlationId).toBe(99);
      const partitions = decoded.body.responses[0].partitions;
      expect(partitions[0].records).toEqual(Buffer.concat([fileBytes.subarray(100, 800), fileBytes.subarray(2000, 3500)]));
      expect(partitions[1].records).toEqual(inline);
      expect(partitions[2].records).toEqual(fileBytes.subarray(0, 64));
      expect(partitions[3].records).toBeNull();
    });
  }

  it('a response may end with a region (v11: records are its last field), and a zero-count region is dropped', () => {
    const parts = encodeResponse(
      { apiKey: 1, apiVersion: 11, correlationId: 1, clientId: null },
      { responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: [{ fd, position: 0, count: 0 }, { fd, position: 5, count: 10 }] }] }] },
    );
    expect(parts.map((part) => (isFileRegion(part) ? 'region' : 'bytes'))).toEqual(['bytes', 'region']);
    expect((parts[0] as Buffer).readInt32BE(0)).toBe(partsBytes(parts) - 4);
  });

  it('a request cannot carry a FileRegion (encodeRequest returns one Buffer)', () => {
    expect(() =>
      encodeRequest(
        { apiKey: 0, apiVersion: 9, correlationId: 1, clientId: null },
        { topicData: [{ name: 't', partitionData: [{ index: 0, records: { fd, position: 0, count: 10 } }] }] },
      ),
    ).toThrow(ProtocolError);
  });
});
