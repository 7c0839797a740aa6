@testable import FMADevCluster
import FMAJSON
import Testing

/// The CEL subset admission policies are evaluated with: expressions and what CEL's
/// specification says they evaluate to (or the error they raise).
@Suite struct CELTests {
    private static let object: JSONValue = [
        "metadata": ["name": "p", "labels": ["app": "web", "dual-pods.llm-d.ai/dual": "req-1"], "annotations": [:]],
        "spec": ["replicas": 3, "ratio": 1.5, "containers": [["name": "a"], ["name": "b"]]],
    ]

    private func evaluate(_ text: String) throws -> CELValue {
        let evaluator = CELEvaluator { (name) throws(CELError) -> CELValue? in
            switch name {
            case "object": CELValue(Self.object)
            case "oldObject": .null
            case "request": CELValue(["userInfo": ["username": "system:serviceaccount:fma:fma-controller"]])
            default: nil
            }
        }
        return try evaluator.evaluate(try CELParser.parse(text))
    }

    @Test("literals, arithmetic, comparison, logic and the conditional", arguments: [
        ("1 + 2 * 3", CELValue.int(7)), ("(1 + 2) * 3", .int(9)), ("7 / 2", .int(3)), ("7 % 4", .int(3)), ("-3 + 1", .int(-2)),
        ("2.5 * 2.0", .double(5)), ("'a' + \"b\"", .string("ab")), ("[1] + [2]", .list([.int(1), .int(2)])),
        ("1 < 2 && 'a' <= 'b' && 3 >= 3 && 2.0 > 1", .bool(true)), ("1 == 1.0", .bool(true)), ("1 == 'one'", .bool(false)),
        ("!true || false", .bool(false)), ("true ? 'yes' : 'no'", .string("yes")), ("null == null", .bool(true)),
        ("'''tri\nple'''", .string("tri\nple")), ("r'\\d'", .string("\\d")), ("'\\u00e9'", .string("é")), ("0x10", .int(16)),
        ("[1, 2, 3].size() == 3 && size('abc') == 3 && {'a': 1}.size() == 1", .bool(true)),
    ])
    func basics(_ text: String, _ expected: CELValue) throws {
        #expect(try evaluate(text) == expected)
    }

    @Test("objects: fields, keys, has(), in, optionals and macros", arguments: [
        ("object.metadata.name", CELValue.string("p")),
        ("object.metadata.labels['app']", .string("web")),
        ("has(object.metadata.labels) && !has(object.metadata.finalizers)", .bool(true)),
        ("'app' in object.metadata.labels && !('x' in object.metadata.labels)", .bool(true)),
        ("2 in [1, 2]", .bool(true)),
        ("object.metadata.?annotations['x'].orValue('none')", .string("none")),
        ("object.metadata.?labels['app'].orValue('none')", .string("web")),
        ("object.?status.?phase.hasValue()", .bool(false)),
        ("oldObject.?metadata.orValue('absent')", .string("absent")),
        ("object.metadata.labels[?'app'].value()", .string("web")),
        ("optional.of(1).value() + optional.none().orValue(2)", .int(3)),
        ("object.spec.containers.all(c, c.name.size() == 1)", .bool(true)),
        ("object.spec.containers.exists(c, c.name == 'b')", .bool(true)),
        ("object.spec.containers.exists_one(c, c.name != 'x')", .bool(false)),
        ("object.spec.containers.map(c, c.name)", .list([.string("a"), .string("b")])),
        ("object.spec.containers.filter(c, c.name == 'a').size()", .int(1)),
        ("[1, 2, 3].map(x, x > 1, x * 10)", .list([.int(20), .int(30)])),
        ("object.spec.replicas <= 5 && object.spec.ratio < 2", .bool(true)),
        ("request.userInfo.username.matches('^system:serviceaccount:[^:]+:fma-controller$')", .bool(true)),
        ("'fma-controller'.startsWith('fma') && 'x.yaml'.endsWith('.yaml') && 'abc'.contains('b')", .bool(true)),
        ("'A-b'.lowerAscii() + 'c'.upperAscii()", .string("a-bC")),
        ("'a,b'.split(',').join('+')", .string("a+b")),
        // An error on one side of && or || gives way to the other side's decisive value.
        ("object.metadata.missing == 1 || true", .bool(true)),
        ("false && object.metadata.missing == 1", .bool(false)),
        ("object.spec.containers.exists(c, c.missing == 1 || c.name == 'a')", .bool(true)),
    ])
    func objects(_ text: String, _ expected: CELValue) throws {
        #expect(try evaluate(text) == expected)
    }

    @Test("errors name what was wrong", arguments: [
        ("object.metadata.missing", "no such key: field 'missing'"),
        ("object.metadata.labels['x']", "no such key: key 'x'"),
        ("undeclared.x", "undeclared reference to 'undeclared'"),
        ("1 + 'a'", "no such overload: int + string"),
        ("1 / 0", "division by zero"),
        ("9223372036854775807 + 1", "integer overflow"),
        ("'a'.matches('(')", "invalid regular expression"),
        ("[1][5]", "index out of range: 5"),
        ("object.metadata.missing == 1 && true", "no such key: field 'missing'"),
        ("size(1)", "found no matching overload for 'size' applied to (int)"),
    ])
    func errors(_ text: String, _ message: String) throws {
        let error = #expect(throws: CELError.self) { _ = try evaluate(text) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test("syntax errors say where", arguments: [
        ("1 +", "expected an operand at offset 3, found the end"),
        ("object.", "expected a field name at offset 7"),
        ("'open", "unterminated string starting at offset 0"),
        ("a ? b", "expected ':' at offset 5"),
        ("has(a)", "has() takes a field selection"),
        ("1 2", "expected the end of the expression at offset 2, found 2"),
        ("#", "unexpected character '#' at offset 0"),
    ])
    func syntax(_ text: String, _ message: String) {
        let error = #expect(throws: CELError.self) { _ = try CELParser.parse(text) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
}
