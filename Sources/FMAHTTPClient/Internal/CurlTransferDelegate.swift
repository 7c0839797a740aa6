/// What a transfer's response goes to: a collector for `send`, a stream for `stream`.
///
/// `didReceiveHead` and `didReceiveBody` run on the client's curl thread, in order.
/// `didComplete` runs exactly once, on the curl thread or, for a transfer cancelled or refused
/// before it reached that thread, on the caller's.
protocol CurlTransferDelegate: AnyObject, Sendable {
    /// The final response head (after any 1xx), before any body byte.
    func didReceiveHead(_ head: ResponseHead)
    /// Body bytes, valid only during the call.
    func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> BodyDisposition
    /// The transfer ended: `.success` once the whole response arrived.
    func didComplete(_ result: Result<Void, HTTPClientError>)
}

/// What the write callback tells libcurl about body bytes.
enum BodyDisposition {
    /// Taken.
    case accept
    /// Not taken: pause the transfer; libcurl offers the same bytes again once resumed.
    case pause
    /// Not taken: end the transfer with this error.
    case abort(HTTPClientError)
}
