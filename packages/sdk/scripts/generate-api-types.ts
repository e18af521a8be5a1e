/**
 * Writes `src/api-types.ts`: the API's request and response types and its vocabularies, taken from
 * `@shardvault/api` with the TypeScript compiler and printed as plain, fully expanded declarations.
 *
 * Why: `@shardvault/api` derives its types from JSON Schemas with `json-schema-to-ts`, so its declarations
 * need that package (and the schemas) to mean anything. The published SDK must type-check in an empty project
 * with no dependency at all, so it carries the expanded types instead. `test/api-types.test.ts` fails when
 * the file is out of date; `npm run generate -w @shardvault/sdk` rewrites it.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const API_ENTRY = fileURLToPath(new URL("../../api/src/index.ts", import.meta.url));
export const OUTPUT = fileURLToPath(new URL("../src/api-types.ts", import.meta.url));

/** The types the SDK offers its users (requests it sends, answers it resolves to). */
const TYPES = [
  "Agent", "AgentList", "AgentTokenResponse", "AgentWithKey", "ApiKey", "ApiKeyCreated", "ApiKeyList",
  "AuditAction", "AuditEvent", "AuditEvents", "AuditVerification", "CharsetName", "CmekRotationJob", "CreateAgentBody",
  "CreateApiKeyBody", "CreateVaultBody", "CustodyModeName", "EnableCmekBody", "EnableMpcBody", "Health",
  "HsmHealth", "Jwks", "MpcCustodyValue", "MpcJob", "MpcJobKind", "MpcJobStarted", "Problem", "ReplaceProviderBody", "RotateSecretBody", "SealedSecret", "SealTarget", "Secret", "SecretList", "SecretMeta",
  "SecretRefreshed", "SecretType", "SecretVersionList", "SecretWritten", "TokenResponse", "UpdateAgentBody", "Vault", "VaultList",
  "VaultMpcEnabled", "WriteSecretBody",
  "Role", "Scope", "PolicyPermission", "PolicyEffect", "Policy", "PolicyList", "CreatePolicyBody", "UpdatePolicyBody",
  "Member", "MemberList", "InviteBody", "InviteCreated", "AcceptInviteBody", "SignInBody", "UpdateMeBody", "ChangePasswordBody",
  "CreateShareBody", "ShareCreated", "SharedSecret", "ShareSummary", "ShareList", "ShareRecipientType",
];

/** The closed vocabularies, as values (e.g. for a command line that checks `--mode` before sending it). */
const VALUES = ["KNOWN_SECRET_TYPES", "CUSTODY_MODE_NAMES", "PROVIDER_QUORUM_MODES", "MPC_CUSTODY_VALUES", "CHARSET_NAMES", "AUDIT_ACTIONS", "ROLES", "SCOPES", "POLICY_PERMISSIONS", "SHARE_RECIPIENT_TYPES"];

const HEADER = `/**
 * The API's types and vocabularies, generated from @shardvault/api (the JSON Schemas the server validates
 * requests with and publishes as OpenAPI) by scripts/generate-api-types.ts. Do not edit: run
 * \`npm run generate -w @shardvault/sdk\`. Plain declarations, so the SDK needs no package to type-check.
 */
/* eslint-disable */
`;

/** The JSDoc of an alias, else of the schema constant it is derived from (`FromSchema<typeof schema>`). */
function docOf(checker: ts.TypeChecker, alias: ts.Symbol): string {
  const own = ts.displayPartsToString(alias.getDocumentationComment(checker));
  if (own) return own;
  const declaration = alias.declarations?.find(ts.isTypeAliasDeclaration);
  let schema: ts.Symbol | undefined;
  const visit = (node: ts.Node): void => {
    if (!schema && ts.isTypeQueryNode(node)) schema = checker.getSymbolAtLocation(node.exprName);
    ts.forEachChild(node, visit);
  };
  if (declaration) visit(declaration.type);
  return schema ? ts.displayPartsToString(schema.getDocumentationComment(checker)) : "";
}

function jsDoc(text: string): string {
  if (!text) return "";
  const lines = text.split("\n");
  return lines.length === 1 ? `/** ${text} */\n` : `/**\n${lines.map((l) => ` * ${l}`.trimEnd()).join("\n")}\n */\n`;
}

/** The string literals of a readonly tuple type (`["a", "b"] as const`). */
function tupleStrings(checker: ts.TypeChecker, type: ts.Type, name: string): string[] {
  const values = checker.getTypeArguments(type as ts.TypeReference).map((t) => (t.isStringLiteral() ? t.value : undefined));
  if (values.length === 0 || values.some((v) => v === undefined)) throw new Error(`${name} is not a tuple of string literals`);
  return values as string[];
}

/** `undefined` and `null` members, which optional and nullable fields add to a named union. */
const isNullish = (node: ts.TypeNode) =>
  node.kind === ts.SyntaxKind.UndefinedKeyword || (ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword);

export function generateApiTypes(): string {
  const program = ts.createProgram([API_ENTRY], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const entry = checker.getSymbolAtLocation(program.getSourceFile(API_ENTRY)!)!;
  const exports = new Map(checker.getExportsOfModule(entry).map((s) => [s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s]));
  const symbol = (name: string) => {
    const found = exports.get(name);
    if (!found) throw new Error(`@shardvault/api exports no ${name}`);
    return found;
  };
  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  const scratch = ts.createSourceFile("api-types.ts", "", ts.ScriptTarget.ES2022);
  const print = (node: ts.Node) => printer.printNode(ts.EmitHint.Unspecified, node, scratch);
  const key = (node: ts.Node) => print(node).replace(/\s+/g, " ");
  const flags = ts.NodeBuilderFlags.NoTruncation | ts.NodeBuilderFlags.InTypeAlias | ts.NodeBuilderFlags.MultilineObjectLiterals;

  // A union of helper instantiations (`Known<A> | Known<B>`, from a schema's `oneOf`) would print as the helper's
  // name, which the SDK lacks: each member is spelled out as an object literal of its properties instead.
  const objectLiteral = (type: ts.Type): ts.TypeNode =>
    ts.factory.createTypeLiteralNode(
      checker.getPropertiesOfType(type).map((property) =>
        ts.factory.createPropertySignature(
          undefined,
          property.name,
          property.flags & ts.SymbolFlags.Optional ? ts.factory.createToken(ts.SyntaxKind.QuestionToken) : undefined,
          checker.typeToTypeNode(checker.getTypeOfSymbol(property), undefined, flags),
        ),
      ),
    );
  const typeNode = (type: ts.Type): ts.TypeNode =>
    type.isUnion() && type.types.some((member) => member.aliasSymbol)
      ? ts.factory.createUnionTypeNode(type.types.map((member) => (member.aliasSymbol ? objectLiteral(member) : checker.typeToTypeNode(member, undefined, flags)!)))
      : checker.typeToTypeNode(type, undefined, flags)!;
  const expanded = TYPES.map((name) => {
    const alias = symbol(name);
    if (!(alias.flags & ts.SymbolFlags.TypeAlias)) throw new Error(`${name} is not a type alias`);
    return { name, alias, node: typeNode(checker.getDeclaredTypeOfSymbol(alias)) };
  });
  // The expansion repeats every nested type in full (an AgentList spells out each Agent): a nested object or
  // union that is exactly one of the named types is written as that name instead.
  const named = new Map(expanded.map(({ name, node }) => [key(node), name]));
  const reference = (name: string) => ts.factory.createTypeReferenceNode(name);
  const useNames = (node: ts.Node): ts.Node => {
    if (ts.isTypeLiteralNode(node) || ts.isUnionTypeNode(node)) {
      const whole = named.get(key(node));
      if (whole) return reference(whole);
      if (ts.isUnionTypeNode(node)) {
        const nullish = node.types.filter(isNullish);
        const rest = node.types.filter((t) => !isNullish(t));
        const part = nullish.length > 0 && rest.length > 1 ? named.get(key(ts.factory.createUnionTypeNode(rest))) : undefined;
        if (part) return ts.factory.createUnionTypeNode([reference(part), ...nullish]);
      }
    }
    return ts.visitEachChild(node, useNames, undefined);
  };

  const parts: string[] = [HEADER];
  for (const name of VALUES) {
    const values = tupleStrings(checker, checker.getTypeOfSymbol(symbol(name)), name);
    parts.push(`${jsDoc(docOf(checker, symbol(name)))}export const ${name} = [${values.map((v) => JSON.stringify(v)).join(", ")}] as const;\n`);
  }
  for (const { name, alias, node } of expanded) {
    const body = ts.visitEachChild(node, useNames, undefined);
    const declaration = ts.factory.createTypeAliasDeclaration([ts.factory.createModifier(ts.SyntaxKind.ExportKeyword)], name, undefined, body);
    // The printer indents by four spaces; the repository's style is two.
    const text = print(declaration).replace(/^((?: {4})+)/gm, (indent) => " ".repeat(indent.length / 2));
    parts.push(`${jsDoc(docOf(checker, alias))}${text}\n`);
  }
  return parts.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OUTPUT, generateApiTypes());
  console.log(`wrote ${OUTPUT}`);
}
