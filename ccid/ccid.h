/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* USB CCID class messages (CCID specification 1.1, §6.1 and §6.2): pure functions over byte
 * buffers, no USB I/O. Builders write one PC_to_RDR message (10-byte header + data); the
 * parser checks one RDR_to_PC answer against the request it answers. Private to ccid/. */
#ifndef VNP_CCID_H
#define VNP_CCID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNP_CCID_HDR_LEN 10

/* bMessageType values (CCID 1.1 §6.1, §6.2) */
enum {
	VNP_CCID_PC_TO_RDR_ICCPOWERON = 0x62,
	VNP_CCID_PC_TO_RDR_ICCPOWEROFF = 0x63,
	VNP_CCID_PC_TO_RDR_GETSLOTSTATUS = 0x65,
	VNP_CCID_PC_TO_RDR_XFRBLOCK = 0x6F,
	VNP_CCID_PC_TO_RDR_GETPARAMETERS = 0x6C,
	VNP_CCID_PC_TO_RDR_SETPARAMETERS = 0x61,
	VNP_CCID_RDR_TO_PC_DATABLOCK = 0x80,
	VNP_CCID_RDR_TO_PC_SLOTSTATUS = 0x81,
	VNP_CCID_RDR_TO_PC_PARAMETERS = 0x82,
};

/* wLevelParameter of XfrBlock at extended APDU level (CCID 1.1 §6.1.4, table 6.1-3);
 * 0 (BEGIN_END) at short APDU and TPDU levels. */
enum {
	VNP_CCID_LEVEL_BEGIN_END = 0x0000,
	VNP_CCID_LEVEL_BEGIN_CONTINUE = 0x0001,
	VNP_CCID_LEVEL_CONTINUE_END = 0x0002,
	VNP_CCID_LEVEL_CONTINUE = 0x0003,
	VNP_CCID_LEVEL_EMPTY = 0x0010,
};

/* bPowerSelect of IccPowerOn (CCID 1.1 §6.1.1) */
enum {
	VNP_CCID_VOLTAGE_AUTO = 0x00,
	VNP_CCID_VOLTAGE_5V = 0x01,
	VNP_CCID_VOLTAGE_3V = 0x02,
	VNP_CCID_VOLTAGE_1_8V = 0x03,
};

/* Result of vnp_ccid_parse_reply besides VNP_OK and enum vnp_rv errors: the reader asks for
 * more time (bmCommandStatus = 2, CCID 1.1 §6.2.6). The caller reads the bulk-in pipe again,
 * with a timeout multiplied by reply.bError (BWT multiplier); nothing is sent. Positive so it
 * never collides with an enum vnp_rv value. */
enum vnp_ccid_result {
	VNP_CCID_TIME_EXTENSION = 1,
};

/* bmICCStatus (bStatus bits 0-1) */
enum vnp_ccid_icc {
	VNP_CCID_ICC_ACTIVE = 0,   /* present and active */
	VNP_CCID_ICC_INACTIVE = 1, /* present, not powered */
	VNP_CCID_ICC_ABSENT = 2,
};

/* bmCommandStatus (bStatus bits 6-7) */
enum vnp_ccid_cmd_status {
	VNP_CCID_CMD_OK = 0,
	VNP_CCID_CMD_FAILED = 1,
	VNP_CCID_CMD_TIME_EXTENSION = 2,
};

/* bError values the parser interprets (CCID 1.1 §6.2.6, table 6.2-2) */
#define VNP_CCID_ERR_ICC_MUTE 0xFE
#define VNP_CCID_ERR_HW_ERROR 0xFB
#define VNP_CCID_ERR_CMD_NOT_SUPPORTED 0x00

/* abProtocolDataStructure for T=1 (CCID 1.1 §6.1.7, table 6.1-9), 7 bytes. */
struct vnp_ccid_t1_params {
	uint8_t bmFindexDindex;
	uint8_t bmTCCKST1;
	uint8_t bGuardTimeT1;
	uint8_t bmWaitingIntegersT1;
	uint8_t bClockStop;
	uint8_t bIFSC;
	uint8_t bNadValue;
};
#define VNP_CCID_T1_PARAMS_LEN 7

/* One parsed RDR_to_PC answer. data points into the caller's buffer. */
struct vnp_ccid_reply {
	uint8_t bMessageType;
	uint8_t bSlot;
	uint8_t bSeq;
	uint8_t bStatus;
	uint8_t bError;
	uint8_t bSpecific; /* bChainParameter, bClockStatus or bProtocolNum */
	enum vnp_ccid_icc icc;
	enum vnp_ccid_cmd_status cmd;
	bool mute; /* bError ICC_MUTE on a failed command */
	const uint8_t *data;
	size_t data_len;
};

/* Builders. Each writes one message for slot/seq into buf (capacity cap; size buf to at most
 * dwMaxCCIDMessageLength) and sets *ret_len on success.
 * Errors: VNP_E_ARGS (NULL pointer, data_len > 0 with data NULL), VNP_E_BUFFER_TOO_SMALL. */
int vnp_ccid_build_power_on(uint8_t slot, uint8_t seq, uint8_t power_select, uint8_t *buf,
			    size_t cap, size_t *ret_len);
int vnp_ccid_build_power_off(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
			     size_t *ret_len);
int vnp_ccid_build_get_slot_status(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
				   size_t *ret_len);
int vnp_ccid_build_get_parameters(uint8_t slot, uint8_t seq, uint8_t *buf, size_t cap,
				  size_t *ret_len);
/* bBWI: block waiting time multiplier (TPDU T=1), w_level: VNP_CCID_LEVEL_*. */
int vnp_ccid_build_xfr_block(uint8_t slot, uint8_t seq, uint8_t bBWI, uint16_t w_level,
			     const uint8_t *data, size_t data_len, uint8_t *buf, size_t cap,
			     size_t *ret_len);
/* SetParameters with bProtocolNum 1 and the T=1 structure. */
int vnp_ccid_build_set_parameters_t1(uint8_t slot, uint8_t seq,
				     const struct vnp_ccid_t1_params *p, uint8_t *buf, size_t cap,
				     size_t *ret_len);

/* The bMessageType answering request type req, or -1 when req is not a known request. */
int vnp_ccid_reply_type(uint8_t req);

/* Parse rsp (rsp_len bytes read from bulk-in) as the answer to req (the message sent, at
 * least its 10-byte header). Checks, in order: header present, dwLength within rsp_len and
 * 10 + dwLength within max_msg_len (dwMaxCCIDMessageLength), bMessageType answers req, bSlot
 * and bSeq equal req's, bStatus bits defined. Then:
 *  - VNP_CCID_TIME_EXTENSION: read again (reply filled; bError is the BWT multiplier);
 *  - VNP_E_NO_CARD: card absent, or mute (bError 0xFE; reply->mute set);
 *  - VNP_E_TRANSPORT: a failed command (any other bError), or a malformed or mismatched
 *    answer;
 *  - VNP_OK: command done; *reply filled. A SlotStatus answer with the card absent is
 *    VNP_OK (reply->icc tells); a DataBlock or Parameters answer with the card absent is
 *    VNP_E_NO_CARD.
 * *reply is filled whenever the header checks pass (so bError can be logged), else untouched.
 * Errors: VNP_E_ARGS for NULL pointers. Pure. */
int vnp_ccid_parse_reply(const uint8_t *req, size_t req_len, const uint8_t *rsp, size_t rsp_len,
			 uint32_t max_msg_len, struct vnp_ccid_reply *reply);

/* Decode the T=1 structure from a successful Parameters answer (bProtocolNum 1, 7 bytes).
 * Errors: VNP_E_MALFORMED (other protocol or length), VNP_E_ARGS. */
int vnp_ccid_parse_t1_params(const struct vnp_ccid_reply *reply,
			     struct vnp_ccid_t1_params *ret_params);

#endif
