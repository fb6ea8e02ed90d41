//! The wire's string enums. Unknown values decode to `Other(String)`.

use crate::open_enum::open_enum;

open_enum! {
    /// The author of a [`Content`](crate::Content) turn.
    pub enum Role {
        /// The person (or program) asking; function results also go in user turns.
        User => "user",
        /// The model's own turns.
        Model => "model",
    }
}

open_enum! {
    /// Why a candidate stopped. Absent on non-final stream chunks.
    pub enum FinishReason {
        /// Not specified by the server.
        Unspecified => "FINISH_REASON_UNSPECIFIED",
        /// A natural stop point or a stop sequence (also after function calls).
        Stop => "STOP",
        /// The `maxOutputTokens` budget was reached.
        MaxTokens => "MAX_TOKENS",
        /// Stopped by the safety filters.
        Safety => "SAFETY",
        /// Stopped because the output recited training data.
        Recitation => "RECITATION",
        /// Unsupported language.
        Language => "LANGUAGE",
        /// Another reason.
        OtherReason => "OTHER",
        /// A blocklisted term.
        Blocklist => "BLOCKLIST",
        /// Prohibited content.
        ProhibitedContent => "PROHIBITED_CONTENT",
        /// Sensitive personally identifiable information.
        Spii => "SPII",
        /// The model produced a function call that could not be parsed.
        MalformedFunctionCall => "MALFORMED_FUNCTION_CALL",
        /// Image output blocked by safety filters.
        ImageSafety => "IMAGE_SAFETY",
        /// A tool call the request did not allow.
        UnexpectedToolCall => "UNEXPECTED_TOOL_CALL",
        /// Too many tool calls in one turn.
        TooManyToolCalls => "TOO_MANY_TOOL_CALLS",
    }
}

open_enum! {
    /// Why a prompt was blocked before any candidate was produced.
    pub enum BlockReason {
        /// Not specified by the server.
        Unspecified => "BLOCK_REASON_UNSPECIFIED",
        /// Blocked by the safety filters.
        Safety => "SAFETY",
        /// Another reason.
        OtherReason => "OTHER",
        /// A blocklisted term.
        Blocklist => "BLOCKLIST",
        /// Prohibited content.
        ProhibitedContent => "PROHIBITED_CONTENT",
        /// Image input blocked by safety filters.
        ImageSafety => "IMAGE_SAFETY",
        /// Blocked by a Model Armor template.
        ModelArmor => "MODEL_ARMOR",
        /// Judged a jailbreak attempt.
        Jailbreak => "JAILBREAK",
    }
}

open_enum! {
    /// Result of running code with the code-execution tool.
    pub enum Outcome {
        /// Not specified by the server.
        Unspecified => "OUTCOME_UNSPECIFIED",
        /// The code ran to completion.
        Ok => "OUTCOME_OK",
        /// The code failed; `output` holds the error.
        Failed => "OUTCOME_FAILED",
        /// The code ran too long and was stopped.
        DeadlineExceeded => "OUTCOME_DEADLINE_EXCEEDED",
    }
}

open_enum! {
    /// Programming language of an [`ExecutableCode`](crate::ExecutableCode) part.
    pub enum Language {
        /// Not specified by the server.
        Unspecified => "LANGUAGE_UNSPECIFIED",
        /// Python 3.
        Python => "PYTHON",
    }
}

open_enum! {
    /// How the model may call the declared functions.
    pub enum FunctionCallingMode {
        /// The model decides (the default).
        Auto => "AUTO",
        /// The model must call a function.
        Any => "ANY",
        /// The model must not call functions.
        None => "NONE",
        /// Like `AUTO`, with calls validated against the declarations.
        Validated => "VALIDATED",
    }
}

open_enum! {
    /// Which server-side tool a [`ToolCall`](crate::ToolCall) or
    /// [`ToolResponse`](crate::ToolResponse) part belongs to (Gemini 3 with
    /// `toolConfig.includeServerSideToolInvocations`). Values named in the
    /// official SDKs' `ToolType`; anything newer is kept as `Other`.
    pub enum ToolType {
        /// Not specified by the server.
        Unspecified => "TOOL_TYPE_UNSPECIFIED",
        /// A Google web search (the `googleSearch` tool).
        GoogleSearchWeb => "GOOGLE_SEARCH_WEB",
        /// A Google image search (the `googleSearch` tool).
        GoogleSearchImage => "GOOGLE_SEARCH_IMAGE",
        /// Reading URLs (the `urlContext` tool).
        UrlContext => "URL_CONTEXT",
        /// A Google Maps lookup (the `googleMaps` tool).
        GoogleMaps => "GOOGLE_MAPS",
        /// A file-search store lookup (the `fileSearch` tool).
        FileSearch => "FILE_SEARCH",
    }
}
