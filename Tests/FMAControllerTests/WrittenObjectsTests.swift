@testable import FMAController
import FMAKubeModel
import Testing

/// The overlay of written Pods never shadows what the informer delivered after the write.
@Suite struct WrittenObjectsTests {
    static func pod(_ rv: String, uid: String = "u1") -> Pod {
        var pod = Pod(name: "p", namespace: "default")
        pod.metadata.uid = uid
        pod.metadata.resourceVersion = rv
        return pod
    }

    @Test func aWriteIsReadUntilTheInformerDeliversIt() {
        let written = WrittenObjects()
        written.remember(Self.pod("5"))
        #expect(written.pod("default/p")?.metadata.resourceVersion == "5")
        written.observed(Self.pod("4"), deleted: false)
        #expect(written.pod("default/p")?.metadata.resourceVersion == "5")
        written.observed(Self.pod("5"), deleted: false)
        #expect(written.pod("default/p") == nil)
    }

    @Test func anAnswerArrivingAfterItsEventIsNotKept() {
        let written = WrittenObjects()
        written.observed(Self.pod("7"), deleted: false)
        written.remember(Self.pod("7"))
        #expect(written.pod("default/p") == nil)
    }

    @Test func anAnswerArrivingAfterTheDeletionDoesNotBringThePodBack() {
        let written = WrittenObjects()
        written.observed(Self.pod("8"), deleted: false)
        written.observed(Self.pod("9"), deleted: true)
        written.remember(Self.pod("9"))
        #expect(written.pod("default/p") == nil)
        #expect(written.all.isEmpty)
        // A new Pod of the same name (another UID) is remembered.
        written.remember(Self.pod("12", uid: "u2"))
        #expect(written.pod("default/p")?.metadata.uid == "u2")
    }
}
