import Testing

@testable import WSChatServer

/// Durability costs one commit per batch, not per write.
@Suite struct GroupCommitTests {
    actor Commits {
        private(set) var batches: [[Int]] = []
        func record(_ batch: [Int]) { batches.append(batch) }
    }

    @Test func writesThatArriveDuringACommitShareTheNextOne() async throws {
        let commits = Commits()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let group = GroupCommit<Int, Int> { writes in
            await commits.record(writes)
            // The first commit is slow, as an fsync is.
            if writes == [0] { for await _ in gate { break } }
            return writes.map { $0 < 0 ? .failure(StoreError("refused \($0)")) : .success($0 * 10) }
        }
        let first = Task { try await group.submit(0) }
        while await commits.batches.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let writes = Array(1...50) + [-1]
        let rest = writes.map { write in Task { try await group.submit(write) } }
        try await Task.sleep(for: .milliseconds(500))
        open.yield()

        #expect(try await first.value == 0)
        for (write, task) in zip(writes, rest) {
            if write < 0 {
                await #expect(throws: StoreError.self) { try await task.value }
            } else {
                #expect(try await task.value == write * 10, "each submitter gets its own result")
            }
        }
        let batches = await commits.batches
        #expect(batches.first == [0])
        #expect(batches.count <= 3, "52 writes took \(batches.count) commits")
        #expect(batches.flatMap { $0 }.sorted() == ([0, -1] + Array(1...50)).sorted())
        await group.waitUntilIdle()
    }
}
