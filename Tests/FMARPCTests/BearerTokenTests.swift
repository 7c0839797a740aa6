import FMARPC
import Testing

@Suite("Bearer tokens")
struct BearerTokenTests {
    @Test("the scheme matches in any case, the token exactly; a file's trailing newline is not part of it")
    func matching() throws {
        let token = try #require(BearerToken("s3cret-Token\n"))
        #expect(token.authorizationValue == "Bearer s3cret-Token")
        for accepted in ["Bearer s3cret-Token", "bearer s3cret-Token", "BEARER s3cret-Token", "bEaReR s3cret-Token"] {
            #expect(token.authorizes(accepted), "\(accepted)")
        }
        for refused in [nil, "", "Bearer", "Bearer ", "Bearer s3cret-token", "Bearer s3cret-Token ", "Bearer  s3cret-Token",
                        "Basic s3cret-Token", "Bearer\ts3cret-Token", "Bearers3cret-Token", "s3cret-Token", "Bearer s3cret-Toke"] {
            #expect(!token.authorizes(refused), "\(String(describing: refused))")
        }
        #expect(BearerToken(" \n") == nil)
    }
}
