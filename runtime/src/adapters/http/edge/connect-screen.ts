import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { fromBinary, fromJsonString, type DescMessage } from '@bufbuild/protobuf';
import { parseContentType as parseConnect } from '@connectrpc/connect/protocol-connect';
import { parseContentType as parseGrpc } from '@connectrpc/connect/protocol-grpc';
import { parseContentType as parseGrpcWeb } from '@connectrpc/connect/protocol-grpc-web';
import type { ErrorCode } from '../../../domain/errors.js';

/**
 * Reads and checks the body of a unary Connect, gRPC or gRPC-Web request before Connect parses it,
 * because Connect answers an undecodable binary message (and a compressed frame it cannot
 * decompress) with `internal` (grpc-status 13), a server error for a client's mistake. A body that
 * does not decode, has unknown JSON fields, wrong framing or is too large is replaced by an empty
 * message and the problem is handed to the RPC, which answers `invalid_argument` (grpc-status 3) in
 * the caller's own protocol with the stable code in `jobplane-error-code`.
 */

export interface RpcBodyProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ScreenedBody {
  /** The bytes to hand to Connect: the original ones, or an empty message of the same format. */
  readonly body: Uint8Array;
  readonly problem: RpcBodyProblem | null;
}

export type Format =
  | { kind: 'unary'; binary: boolean; encoding: string | null }
  | { kind: 'enveloped'; binary: boolean; encoding: string | null };

/** How the body is framed, or null when Connect will refuse the content type itself (415). */
export function rpcFormat(headers: Headers): Format | null {
  const ct = headers.get('content-type');
  const connect = parseConnect(ct);
  if (connect) {
    return connect.stream
      ? null
      : { kind: 'unary', binary: connect.binary, encoding: headers.get('content-encoding') };
  }
  const grpc = parseGrpc(ct);
  if (grpc) return { kind: 'enveloped', binary: grpc.binary, encoding: headers.get('grpc-encoding') };
  const web = parseGrpcWeb(ct);
  if (web && !web.text)
    return { kind: 'enveloped', binary: web.binary, encoding: headers.get('grpc-encoding') };
  return null;
}

const invalid = (message: string): RpcBodyProblem => ({ code: 'REQUEST.INVALID', message });

function decompress(data: Uint8Array, encoding: string | null, maxBytes: number): Uint8Array {
  const e = (encoding ?? 'identity').toLowerCase();
  if (e === 'identity') return data;
  if (e === 'gzip') return gunzipSync(data, { maxOutputLength: maxBytes });
  if (e === 'br') return brotliDecompressSync(data, { maxOutputLength: maxBytes });
  throw new Error(`unsupported encoding '${e.slice(0, 32)}' (gzip, br, identity)`);
}

function decode(schema: DescMessage, data: Uint8Array, binary: boolean): void {
  if (binary) {
    fromBinary(schema, data);
    return;
  }
  const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  fromJsonString(schema, text, { ignoreUnknownFields: false });
}

/** An empty message in the request's format (a valid body the RPC can be invoked with). */
export function emptyMessage(format: Format): Uint8Array {
  const message = format.binary ? new Uint8Array(0) : new TextEncoder().encode('{}');
  if (format.kind === 'unary') return message;
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

/** Checks `bytes` (the whole body); see the module comment. */
export function screenRpcBody(
  schema: DescMessage,
  format: Format,
  bytes: Uint8Array,
  maxBytes: number,
): ScreenedBody {
  const refuse = (problem: RpcBodyProblem): ScreenedBody => ({ body: emptyMessage(format), problem });
  if (bytes.length > maxBytes + 5)
    return refuse({ code: 'REQUEST.TOO_LARGE', message: `the message exceeds ${maxBytes} bytes` });
  try {
    if (format.kind === 'unary') {
      decode(schema, decompress(bytes, format.encoding, maxBytes), format.binary);
      return { body: bytes, problem: null };
    }
    if (bytes.length < 5) return refuse(invalid('protocol error: incomplete envelope'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = view.getUint8(0);
    const length = view.getUint32(1);
    if (bytes.length !== 5 + length)
      return refuse(
        invalid(`protocol error: one message of ${length} bytes announced, ${bytes.length - 5} sent`),
      );
    if (flags !== 0 && flags !== 1) return refuse(invalid(`protocol error: envelope flags ${flags}`));
    if (flags === 1 && !format.encoding)
      return refuse(invalid('protocol error: compressed message without grpc-encoding'));
    const data = bytes.subarray(5);
    decode(schema, flags === 1 ? decompress(data, format.encoding, maxBytes) : data, format.binary);
    return { body: bytes, problem: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return refuse(invalid(`the request message does not decode: ${message}`));
  }
}
