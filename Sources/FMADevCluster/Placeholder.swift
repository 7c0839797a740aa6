import NIOSSL
import X509
import Crypto
enum Placeholder {}
