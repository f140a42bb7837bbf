// TLS trust for upstream connections when an extra CA is configured (a private CA in front of the
// real hosts, or the simulator's): the system roots plus that CA, in one secure context built once.
//
// The public way, createSecureContext({ ca: [...rootCertificates, extra] }), parses all ~140 root
// certificates from PEM in JavaScript: about 20 ms, paid on a replica's cold start. Adding the one
// extra certificate to a default context asks Node to copy its already parsed root store and add
// to the copy (under 1 ms), which trusts exactly the same certificates. That method lives on the
// context's native handle; where a Node version lacks it, the public way is used.
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

interface NativeContext {
  addCACert?: (pem: string) => void;
}

export function secureContextWithExtraCa(extraCaPem: string): SecureContext {
  const context = createSecureContext();
  const native = (context as SecureContext & { context?: NativeContext }).context;
  if (typeof native?.addCACert === 'function') {
    native.addCACert(extraCaPem);
    return context;
  }
  return createSecureContext({ ca: [...rootCertificates, extraCaPem] });
}
