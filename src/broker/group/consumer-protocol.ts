// The topics a consumer subscribes to, read from its JoinGroup protocol metadata: Kafka's
// ConsumerProtocolSubscription, which every version (0-3) starts with the same v0 prefix:
//   version int16, topics [int32 count, (int16 length, UTF-8)...], userData (int32 length, -1 = null)
// The coordinator reads only that prefix, as Kafka's does, so later versions and fields it does not
// know (ownedPartitions, generationId, rackId) cannot break it.

/** The group protocol type of Kafka consumers: only its metadata has this format. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The subscribed topics, or null when the bytes are not a consumer subscription. */
export function subscribedTopicsOf(metadata: Buffer): string[] | null {
  let at = 0;
  const need = (bytes: number) => {
    if (bytes < 0 || at + bytes > metadata.length) throw new RangeError('truncated');
  };
  try {
    need(2);
    const version = metadata.readInt16BE(at);
    at += 2;
    if (version < 0) return null;
    need(4);
    const count = metadata.readInt32BE(at);
    at += 4;
    if (count < 0) return null;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) {
      need(2);
      const length = metadata.readInt16BE(at);
      at += 2;
      if (length < 0) return null;
      need(length);
      topics.push(metadata.toString('utf8', at, at + length));
      at += length;
    }
    need(4);
    const userDataLength = metadata.readInt32BE(at);
    at += 4;
    if (userDataLength >= 0) need(userDataLength);
    else if (userDataLength !== -1) return null;
    return topics;
  } catch {
    return null;
  }
}
