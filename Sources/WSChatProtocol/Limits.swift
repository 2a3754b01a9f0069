/// The limits a server announces in `welcome.limits`.
public struct Limits: Codable, Equatable, Sendable {
    /// The largest `text` accepted, in bytes of UTF-8.
    public var maxMessageBytes: Int
    /// Messages per second refilled into the token bucket; 0 means no rate limit.
    public var rate: Double
    /// The token bucket's size: how many messages may be sent at once.
    public var burst: Int

    public init(maxMessageBytes: Int = 4096, rate: Double = 10, burst: Int = 20) {
        self.maxMessageBytes = maxMessageBytes
        self.rate = rate
        self.burst = burst
    }

    /// The largest `topic`, in bytes of UTF-8.
    public static let maxTopicBytes = 512
}
